"""fastarm vs NumPy vs SimSIMD, per call, in one process.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/kernels_vs_numpy.py

For every (op, dtype, n) the implementations are sampled in turn (round-robin, so slow drifts
of a shared machine hit all of them alike); each sample times a calibrated loop of calls.  The
table shows the median time per call with the interquartile range, and speed-ups over the NumPy
expression a user would write (listed under the table).  The geometric mean of fastarm's
speed-up over NumPy is printed for the smallest n.  Numbers only mean something together with
the machine they came from.
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import sys
import time
from typing import Any, Callable, Optional

try:
    import numpy as np
    from tabulate import tabulate
except ImportError as exc:  # pragma: no cover - depends on the environment
    sys.exit(f"this benchmark needs NumPy and tabulate: pip install 'fastarm[bench]' ({exc})")

import fastarm

try:
    import simsimd
except ImportError:  # SimSIMD is optional: its columns then read n/a
    simsimd = None

Call = Callable[[], Any]

NUMPY_EXPRESSIONS = {
    ("dot", "float"): "np.dot(a, b)",
    ("dot", "int"): "np.dot(a.astype(np.int64), b.astype(np.int64))",
    ("sqeuclidean", "float"): "d = a - b; np.dot(d, d)",
    ("sqeuclidean", "int"): "d = a.astype(np.int64) - b; np.dot(d, d)",
    ("cosine", "float"): "1 - np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))",
    ("cosine", "int"): "x, y = a.astype(np.float64), b.astype(np.float64); "
    "1 - np.dot(x, y) / (np.linalg.norm(x) * np.linalg.norm(y))",
    ("minmax", "any"): "(a.min(), a.max())",
    ("mean_var", "any"): "(a.mean(dtype=np.float64), a.var(dtype=np.float64))",
}


def numpy_call(op: str, a: np.ndarray, b: np.ndarray) -> Call:
    integer = a.dtype.kind in "iu"
    if op == "dot":
        if integer:
            return lambda: np.dot(a.astype(np.int64), b.astype(np.int64))
        return lambda: np.dot(a, b)
    if op == "sqeuclidean":
        if integer:

            def sq_int() -> Any:
                d = a.astype(np.int64) - b
                return np.dot(d, d)

            return sq_int

        def sq() -> Any:
            d = a - b
            return np.dot(d, d)

        return sq
    if op == "cosine":
        norm = np.linalg.norm
        if integer:

            def cos_int() -> Any:
                x, y = a.astype(np.float64), b.astype(np.float64)
                return 1 - np.dot(x, y) / (norm(x) * norm(y))

            return cos_int
        return lambda: 1 - np.dot(a, b) / (norm(a) * norm(b))
    if op == "minmax":
        return lambda: (a.min(), a.max())
    if op == "mean_var":
        return lambda: (a.mean(dtype=np.float64), a.var(dtype=np.float64))
    raise ValueError(op)


def fastarm_call(op: str, a: np.ndarray, b: np.ndarray) -> Call:
    fn = getattr(fastarm, op)
    if op in ("minmax", "mean_var"):
        return lambda: fn(a)
    return lambda: fn(a, b)


def simsimd_call(op: str, a: np.ndarray, b: np.ndarray) -> Optional[Call]:
    if simsimd is None or op not in ("dot", "sqeuclidean", "cosine"):
        return None
    fn = getattr(simsimd, op)
    try:
        fn(a, b)
    except Exception:  # SimSIMD does not cover every dtype for every op
        return None
    return lambda: fn(a, b)


def calibrate(call: Call, target_s: float) -> int:
    loops = 1
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            call()
        elapsed = time.perf_counter() - start
        if elapsed >= target_s / 4 or loops >= 1 << 24:
            return max(1, int(loops * target_s / max(elapsed, 1e-9)))
        loops *= 4


def sample(call: Call, loops: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        call()
    return (time.perf_counter() - start) / loops


def make_inputs(dtype: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if dtype == "int8":
        return (
            rng.integers(-128, 128, n).astype(np.int8),
            rng.integers(-128, 128, n).astype(np.int8),
        )
    if dtype == "uint8":
        return (rng.integers(0, 256, n).astype(np.uint8), rng.integers(0, 256, n).astype(np.uint8))
    return rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)


def cases(sizes: list[int]) -> list[tuple[str, str, int]]:
    out = []
    for n in sizes:
        for op in ("dot", "sqeuclidean", "cosine"):
            for dt in ("float64", "float32", "float16", "int8", "uint8"):
                out.append((op, dt, n))
        for dt in ("float64", "float32", "int8", "uint8"):
            out.append(("minmax", dt, n))
        for dt in ("float64", "float32"):
            out.append(("mean_var", dt, n))
    return out


def fmt_time(
    seconds: Optional[float], q1: Optional[float] = None, q3: Optional[float] = None
) -> str:
    if seconds is None:
        return "n/a"
    us = seconds * 1e6
    text = f"{us:.3g}" if us < 100 else f"{us:.0f}"
    if q1 is not None and q3 is not None:
        text += f" ±{(q3 - q1) * 1e6 / 2:.2g}"
    return text


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1536,1000000", help="comma-separated n (default: 1536,1000000)"
    )
    parser.add_argument(
        "--samples", type=int, default=21, help="samples per implementation (default: 21)"
    )
    parser.add_argument(
        "--sample-ms", type=float, default=2.0, help="target duration of one sample"
    )
    parser.add_argument("--backend", help="force a fastarm backend (default: the best usable)")
    parser.add_argument(
        "-k", dest="select", help="only cases whose 'op/dtype/n' contains this text"
    )
    args = parser.parse_args(argv)
    if args.backend:
        fastarm.use_backend(args.backend)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    rng = np.random.default_rng(0)
    rows, speedups = [], []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for op, dtype, n in cases(sizes):
            if args.select and args.select not in f"{op}/{dtype}/{n}":
                continue
            a, b = make_inputs(dtype, n, rng)
            impls: dict[str, Optional[Call]] = {
                "numpy": numpy_call(op, a, b),
                "simsimd": simsimd_call(op, a, b),
                "fastarm": fastarm_call(op, a, b),
            }
            loops = {
                k: calibrate(c, args.sample_ms / 1e3) for k, c in impls.items() if c is not None
            }
            samples: dict[str, list[float]] = {k: [] for k in loops}
            for _ in range(args.samples):
                for k in loops:
                    samples[k].append(sample(impls[k], loops[k]))  # type: ignore[arg-type]
            stats = {}
            for k, xs in samples.items():
                q = statistics.quantiles(xs, n=4)
                stats[k] = (statistics.median(xs), q[0], q[2])
            med = {k: v[0] for k, v in stats.items()}
            best = {k: min(xs) for k, xs in samples.items()}
            fa_speed = med["numpy"] / med["fastarm"]
            ss_speed = med["numpy"] / med["simsimd"] if "simsimd" in med else None
            vs_ss = med["simsimd"] / med["fastarm"] if "simsimd" in med else None
            vs_ss_best = best["simsimd"] / best["fastarm"] if "simsimd" in best else None
            if n == min(sizes):
                speedups.append(fa_speed)
            rows.append(
                [
                    op,
                    dtype,
                    n,
                    fmt_time(*stats["numpy"]),
                    fmt_time(*stats["simsimd"]) if "simsimd" in stats else "n/a",
                    fmt_time(*stats["fastarm"]),
                    f"{fa_speed:.1f}x",
                    f"{ss_speed:.1f}x" if ss_speed else "n/a",
                    f"{vs_ss:.2f}" if vs_ss else "n/a",
                    f"{vs_ss_best:.2f}" if vs_ss_best else "n/a",
                ]
            )
            print(f"  {op}/{dtype}/{n} done", file=sys.stderr)
    finally:
        if gc_was_enabled:
            gc.enable()
    headers = [
        "op",
        "dtype",
        "n",
        "NumPy µs",
        "SimSIMD µs",
        "fastarm µs",
        "fastarm vs NumPy",
        "SimSIMD vs NumPy",
        "fastarm vs SimSIMD",
        "(best samples)",
    ]
    info = fastarm.simd_info()
    print(
        f"fastarm {fastarm.__version__} backend={info['active']} machine={info['machine']} "
        f"numpy {np.__version__} simsimd {getattr(simsimd, '__version__', 'not installed')}"
    )
    print(
        "times: median per call ± half the interquartile range; speed-ups: ratio of medians; "
        "'(best samples)': ratio of the fastest samples, less sensitive to a busy machine"
    )
    print(tabulate(rows, headers=headers, tablefmt="github"))
    print("\nNumPy expressions (a, b are the input arrays):")
    for (op, kind), expr in NUMPY_EXPRESSIONS.items():
        print(f"  {op:12s} {kind:6s} {expr}")
    if speedups:
        geo = math.exp(sum(math.log(s) for s in speedups) / len(speedups))
        print(f"\ngeometric-mean speed-up of fastarm over NumPy at n={min(sizes)}: {geo:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
