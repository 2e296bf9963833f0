"""Kernel accuracy: op x dtype x usable backend x size x layout vs a float64 reference."""

from __future__ import annotations

import numpy as np
import pytest

import fastarm
from kernel_helpers import (
    BACKENDS,
    DTYPES,
    INT_DTYPES,
    LAYOUTS,
    REFERENCES,
    SIZES,
    assert_matches,
    layout,
    random_vector,
)

OPS = {"dot": fastarm.dot, "sqeuclidean": fastarm.sqeuclidean, "cosine": fastarm.cosine}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", list(OPS))
def test_binary_ops_all_sizes_contiguous(backend: str, dtype: str, op: str) -> None:
    rng = np.random.default_rng(42)
    with fastarm.use_backend(backend):
        for n in SIZES:
            a, b = random_vector(rng, dtype, n), random_vector(rng, dtype, n)
            expected, scale = REFERENCES[op](a, b)
            assert_matches(OPS[op](a, b), expected, scale, dtype, f"{op} n={n}")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", LAYOUTS[1:])
def test_binary_ops_strided_layouts_match_contiguous(backend: str, dtype: str, kind: str) -> None:
    rng = np.random.default_rng(7)
    with fastarm.use_backend(backend):
        for n in [0, 1, 3, 17, 33, 65, 1536, 5000]:
            a, b = random_vector(rng, dtype, n), random_vector(rng, dtype, n)
            la, lb = layout(a, kind), layout(b, kind)
            for op, fn in OPS.items():
                # The same kernel on a contiguous copy: results must be identical.
                assert fn(la, lb) == fn(a, b) or (np.isnan(fn(a, b)) and np.isnan(fn(la, lb))), (
                    f"{op} {kind} n={n}"
                )
                expected, scale = REFERENCES[op](a, b)
                assert_matches(fn(la, lb), expected, scale, dtype, f"{op} {kind} n={n}")


def _special_vectors(
    dtype: str, n: int, rng: np.random.Generator
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    base_a = random_vector(rng, dtype, n)
    base_b = random_vector(rng, dtype, n)
    cases: list[tuple[str, np.ndarray, np.ndarray]] = [
        ("zeros", np.zeros(n, dtype), np.zeros(n, dtype)),
        ("one zero vector", np.zeros(n, dtype), base_b),
    ]
    if dtype in INT_DTYPES:
        info = np.iinfo(dtype)
        cases += [
            ("min*min", np.full(n, info.min, dtype), np.full(n, info.min, dtype)),
            ("min-max", np.full(n, info.min, dtype), np.full(n, info.max, dtype)),
            ("max*max", np.full(n, info.max, dtype), np.full(n, info.max, dtype)),
            (
                "alternating",
                np.resize(np.array([info.min, info.max], dtype), n),
                np.resize(np.array([info.max, info.min], dtype), n),
            ),
        ]
        return cases
    big = {"float64": 1e150, "float32": 3.0e38, "float16": 65504.0}[dtype]
    for pos in sorted({0, n // 2, n - 1}):
        for name, value in [("nan", np.nan), ("inf", np.inf), ("-inf", -np.inf)]:
            a = base_a.copy()
            a[pos] = value
            cases.append((f"{name}@{pos}", a, base_b))
        a, b = base_a.copy(), base_b.copy()
        a[pos], b[pos] = np.inf, np.inf  # inf - inf = nan in sqeuclidean, inf in dot
        cases.append((f"inf,inf@{pos}", a, b))
        a, b = base_a.copy(), base_b.copy()
        a[pos], b[pos] = np.inf, 0  # inf * 0 = nan
        cases.append((f"inf*0@{pos}", a, b))
    cases += [
        ("+big,-big", np.full(n, big, dtype), np.full(n, -big, dtype)),
        ("big,big", np.full(n, big, dtype), np.full(n, big, dtype)),
        (
            "alternating big",
            np.resize(np.array([big, -big], dtype), n),
            np.resize(np.array([-big, big], dtype), n),
        ),
    ]
    return cases


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_ops_special_values(backend: str, dtype: str) -> None:
    rng = np.random.default_rng(3)
    with fastarm.use_backend(backend):
        for n in [1, 7, 16, 33, 127, 1536, 3000]:
            for name, a, b in _special_vectors(dtype, n, rng):
                for op, fn in OPS.items():
                    expected, scale = REFERENCES[op](a, b)
                    assert_matches(fn(a, b), expected, scale, dtype, f"{op} {name} n={n}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_int8_uint8_exact_at_ten_million(backend: str) -> None:
    """Worst-case values at n = 10**7 would overflow any int32 accumulator."""
    n = 10**7
    lo8, hi8 = np.full(n, -128, np.int8), np.full(n, 127, np.int8)
    zero_u8, hi_u8 = np.zeros(n, np.uint8), np.full(n, 255, np.uint8)
    with fastarm.use_backend(backend):
        assert fastarm.dot(lo8, lo8) == float(n * 128 * 128)
        assert fastarm.dot(lo8, hi8) == float(-n * 128 * 127)
        assert fastarm.sqeuclidean(lo8, hi8) == float(n * 255 * 255)
        assert fastarm.dot(hi_u8, hi_u8) == float(n * 255 * 255)
        assert fastarm.sqeuclidean(zero_u8, hi_u8) == float(n * 255 * 255)
        assert fastarm.cosine(lo8, lo8) == 0.0
        assert fastarm.cosine(lo8, hi8) == 2.0
        rng = np.random.default_rng(11)
        a = rng.integers(-128, 128, n).astype(np.int8)
        b = rng.integers(-128, 128, n).astype(np.int8)
        a64, b64 = a.astype(np.int64), b.astype(np.int64)
        assert fastarm.dot(a, b) == float(np.dot(a64, b64))
        assert fastarm.sqeuclidean(a, b) == float(np.dot(a64 - b64, a64 - b64))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int8", "uint8"])
def test_minmax(backend: str, dtype: str) -> None:
    rng = np.random.default_rng(5)
    with fastarm.use_backend(backend):
        for n in SIZES[1:]:
            a = random_vector(rng, dtype, n)
            got = fastarm.minmax(a)
            assert got == (a.min(), a.max()), f"n={n}"
            assert type(got[0]) is (int if dtype in INT_DTYPES else float)
            for kind in LAYOUTS[1:]:
                assert fastarm.minmax(layout(a, kind)) == got, f"{kind} n={n}"
            if dtype in INT_DTYPES:
                info = np.iinfo(dtype)
                for pos in sorted({0, n // 2, n - 1}):
                    b = a.copy()
                    b[pos] = info.min
                    c = a.copy()
                    c[pos] = info.max
                    assert fastarm.minmax(b)[0] == info.min
                    assert fastarm.minmax(c)[1] == info.max
            else:
                for pos in sorted({0, n // 2, n - 1}):
                    b = a.copy()
                    b[pos] = np.nan
                    lo, hi = fastarm.minmax(b)
                    assert np.isnan(lo) and np.isnan(hi), f"nan@{pos} n={n}"
                    assert np.isnan(np.min(b)) and np.isnan(np.max(b))
                    c = a.copy()
                    c[pos] = -np.inf
                    assert fastarm.minmax(c) == (-np.inf, c.max())


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_mean_var(backend: str, dtype: str) -> None:
    rng = np.random.default_rng(9)
    with fastarm.use_backend(backend):
        for n in SIZES[1:]:
            a = random_vector(rng, dtype, n)
            x = a.astype(np.float64)
            for ddof in (0, 1):
                if n - ddof <= 0:
                    continue
                mean, var = fastarm.mean_var(a, ddof=ddof)
                assert mean == pytest.approx(np.mean(x), rel=1e-12, abs=1e-15), f"n={n}"
                assert var == pytest.approx(np.var(x, ddof=ddof), rel=1e-10, abs=1e-15), f"n={n}"
            for kind in LAYOUTS[1:]:
                assert fastarm.mean_var(layout(a, kind)) == fastarm.mean_var(a), f"{kind} n={n}"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_mean_var_large_offset(backend: str, dtype: str) -> None:
    """1e8 + small noise: a naive sum(x**2) - n*mean**2 loses every digit here."""
    rng = np.random.default_rng(1)
    offset, noise = (1e8, 1.0) if dtype == "float64" else (1e4, 1e-2)
    a = (offset + noise * rng.standard_normal(200_001)).astype(dtype)
    x = a.astype(np.float64)
    with fastarm.use_backend(backend):
        mean, var = fastarm.mean_var(a, ddof=1)
    assert mean == pytest.approx(np.mean(x), rel=1e-12)
    assert var == pytest.approx(np.var(x, ddof=1), rel=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_mean_var_special_values(backend: str) -> None:
    with fastarm.use_backend(backend):
        for n in [1, 5, 1024, 3000]:
            a = np.ones(n)
            a[n // 2] = np.inf
            mean, var = fastarm.mean_var(a)
            assert mean == np.inf and np.isnan(var)
            a[0] = np.nan
            mean, var = fastarm.mean_var(a)
            assert np.isnan(mean) and np.isnan(var)
        two = np.full(4000, np.inf)
        assert fastarm.mean_var(two)[0] == np.inf


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("metric", ["dot", "sqeuclidean", "cosine"])
def test_cdist_matches_reference(backend: str, dtype: str, metric: str) -> None:
    rng = np.random.default_rng(2)
    ref = REFERENCES[metric]
    with fastarm.use_backend(backend):
        for m, n, d in [(3, 4, 17), (1, 5, 1536), (6, 2, 0), (0, 3, 8)]:
            xa = (
                np.stack([random_vector(rng, dtype, d) for _ in range(m)])
                if m
                else np.zeros((0, d), dtype)
            )
            xb = np.stack([random_vector(rng, dtype, d) for _ in range(n)])
            got = fastarm.cdist(xa, xb, metric)
            assert got.shape == (m, n) and got.dtype == np.float64
            out32 = np.empty((m, n), np.float32)
            assert fastarm.cdist(xa, xb, metric=metric, out=out32) is out32
            strided = fastarm.cdist(xa.T.copy().T, xb[:, ::-1].copy()[:, ::-1], metric)
            for i in range(m):
                for j in range(n):
                    expected, scale = ref(xa[i], xb[j])
                    assert_matches(float(got[i, j]), expected, scale, dtype, f"{metric} {i},{j}")
            assert np.array_equal(out32, got.astype(np.float32), equal_nan=True)
            assert np.array_equal(strided, got, equal_nan=True)
