"""Shared helpers for the kernel tests: float64 references, layouts, tolerances."""

from __future__ import annotations

from typing import Callable

import numpy as np

import fastarm

BACKENDS = fastarm.simd_info()["usable"]
DTYPES = ["float64", "float32", "float16", "int8", "uint8"]
FLOAT_DTYPES = ["float64", "float32", "float16"]
INT_DTYPES = ["int8", "uint8"]
SIZES = [0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 1536, 100003]
LAYOUTS = ["contiguous", "step2", "negative", "misaligned"]
# Tolerance relative to sum(|terms|) (0 = exact).
REL_TOL = {"float64": 1e-12, "float32": 1e-5, "float16": 1e-3, "int8": 0.0, "uint8": 0.0}


def random_vector(rng: np.random.Generator, dtype: str, n: int) -> np.ndarray:
    if dtype == "int8":
        return rng.integers(-128, 128, n).astype(np.int8)
    if dtype == "uint8":
        return rng.integers(0, 256, n).astype(np.uint8)
    return rng.standard_normal(n).astype(dtype)


def layout(x: np.ndarray, kind: str) -> np.ndarray:
    """The same values as ``x`` in another memory layout."""
    if kind == "contiguous":
        return x
    if kind == "step2":
        wide = np.zeros(2 * len(x), dtype=x.dtype)
        wide[::2] = x
        out = wide[::2]
    elif kind == "negative":
        out = x[::-1].copy()[::-1]
    elif kind == "misaligned":
        raw = np.zeros(x.nbytes + 1, dtype=np.uint8)
        out = raw[1:].view(x.dtype)
        out[:] = x
    else:
        raise ValueError(kind)
    assert np.array_equal(out, x, equal_nan=x.dtype.kind == "f")
    return out


def f64(x: np.ndarray) -> np.ndarray:
    return np.asarray(x).astype(np.float64)


def ref_dot(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    x, y = f64(a), f64(b)
    with np.errstate(all="ignore"):
        return float(np.sum(x * y)), float(np.sum(np.abs(x * y)))


def ref_sqeuclidean(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    x, y = f64(a), f64(b)
    with np.errstate(all="ignore"):
        d = x - y
        s = float(np.sum(d * d))
    return s, s


def ref_cosine(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """SciPy's definition with float64 NumPy: 1 - ab/sqrt(aa*bb), clipped to [0, 2]."""
    x, y = f64(a), f64(b)
    with np.errstate(all="ignore"):
        ab, aa, bb = np.sum(x * y), np.sum(x * x), np.sum(y * y)
        dist = np.float64(1.0) - ab / np.sqrt(aa * bb)
    # Each sum carries an error of at most tol * sqrt(aa * bb) (Cauchy-Schwarz); so does the result.
    return float(np.clip(dist, 0.0, 2.0)), 3.0


REFERENCES: dict[str, Callable[[np.ndarray, np.ndarray], tuple[float, float]]] = {
    "dot": ref_dot,
    "sqeuclidean": ref_sqeuclidean,
    "cosine": ref_cosine,
}


def assert_matches(got: float, expected: float, scale: float, dtype: str, what: str) -> None:
    """NaN where the reference is NaN, the same inf, otherwise within REL_TOL[dtype] * scale."""
    assert isinstance(got, float), what
    if np.isnan(expected):
        assert np.isnan(got), f"{what}: got {got!r}, expected nan"
        return
    if np.isinf(expected):
        assert got == expected, f"{what}: got {got!r}, expected {expected!r}"
        return
    tol = REL_TOL[dtype] * scale
    if dtype in ("int8", "uint8") and what.startswith("cosine"):
        tol = 1e-12
    assert abs(got - expected) <= tol, f"{what}: got {got!r}, expected {expected!r} (tol {tol:g})"
