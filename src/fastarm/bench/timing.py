"""How it is measured: calibrated loops, warm-up, interleaved samples, GC off, worker processes.

Every implementation of every selected group is first calibrated (the number of calls per sample
grows until one sample lasts at least ``min_sample_ns`` and at least 20x the timer's resolution)
and warmed up.  Sampling then goes in *rounds*: each round takes one sample of every implementation
of every group, the implementations of a group back to back in an order rotated every round.  So
the samples of a case are spread over the whole run (a burst of load elsewhere on the machine hits
a few samples of every case, not all samples of one case), and within a group the implementations
are measured side by side, which is what the speed-up vs NumPy needs.

``samples_ns`` are nanoseconds per call (sample time / loops).  With ``workers > 1`` the whole
selection is run in that many fresh interpreters, one after the other; their samples are pooled and
each sample is tagged with its worker (samples from one process are not independent of each other).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator, Mapping, Sequence

from . import stats

#: Default sampling parameters per profile.
PROFILE_SAMPLING = {
    "quick": {"samples": 21, "min_sample_ns": 3_000_000, "warmup": 1},
    "full": {"samples": 31, "min_sample_ns": 5_000_000, "warmup": 2},
}


@dataclass(frozen=True)
class Sampling:
    samples: int = 15
    min_sample_ns: int = 2_000_000
    warmup: int = 1
    max_loops: int = 10_000_000


def timer_resolution_ns() -> float:
    """The resolution of ``time.perf_counter_ns`` (the smallest observed non-zero step)."""
    info = time.get_clock_info("perf_counter").resolution * 1e9
    best = float("inf")
    for _ in range(50):
        t0 = time.perf_counter_ns()
        t1 = time.perf_counter_ns()
        while t1 == t0:
            t1 = time.perf_counter_ns()
        best = min(best, t1 - t0)
    return max(info, best, 1.0)


@contextlib.contextmanager
def gc_disabled() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def time_loops(fn: Callable[[], Any], loops: int) -> int:
    """Wall time in ns of ``loops`` calls of ``fn`` (GC off)."""
    rng = range(loops)
    with gc_disabled():
        t0 = time.perf_counter_ns()
        for _ in rng:
            fn()
        t1 = time.perf_counter_ns()
    return t1 - t0


def calibrate(fn: Callable[[], Any], min_sample_ns: float, max_loops: int = 10_000_000) -> int:
    """Smallest power-of-two-ish loop count whose sample lasts at least ``min_sample_ns``."""
    loops = 1
    while True:
        elapsed = time_loops(fn, loops)
        if elapsed >= min_sample_ns or loops >= max_loops:
            return loops
        if elapsed <= 0:
            loops *= 10
            continue
        # aim 20 % above the target, at most x10 per step
        factor = min(10.0, max(2.0, 1.2 * min_sample_ns / elapsed))
        loops = min(max_loops, int(loops * factor) + 1)


def _nullcontext() -> ContextManager[None]:
    return contextlib.nullcontext()


def prepare(
    calls: Mapping[str, Callable[[], Any]],
    sampling: Sampling,
    around: Mapping[str, Callable[[], ContextManager[Any]]],
    resolution_ns: float,
) -> dict[str, int]:
    """Calibrate and warm up each implementation; return impl -> loops per sample."""
    target = max(float(sampling.min_sample_ns), 20.0 * resolution_ns)
    loops: dict[str, int] = {}
    for impl, fn in calls.items():
        with around.get(impl, _nullcontext)():
            loops[impl] = calibrate(fn, target, sampling.max_loops)
            for _ in range(sampling.warmup):
                time_loops(fn, loops[impl])
    return loops


def sample_round(
    calls: Mapping[str, Callable[[], Any]],
    loops: Mapping[str, int],
    around: Mapping[str, Callable[[], ContextManager[Any]]],
    samples: dict[str, list[float]],
    index: int,
    on_sample: Callable[[], None] | None = None,
) -> None:
    """One sample of every implementation, in an order rotated by ``index``."""
    impls = list(calls)
    shift = index % len(impls)
    for impl in impls[shift:] + impls[:shift]:
        with around.get(impl, _nullcontext)():
            elapsed = time_loops(calls[impl], loops[impl])
        samples.setdefault(impl, []).append(elapsed / loops[impl])
        if on_sample is not None:
            on_sample()


def measure_group(
    calls: Mapping[str, Callable[[], Any]],
    sampling: Sampling,
    around: Mapping[str, Callable[[], ContextManager[Any]]] | None = None,
    resolution_ns: float | None = None,
    on_sample: Callable[[], None] | None = None,
) -> dict[str, tuple[int, list[float]]]:
    """Measure one group's implementations interleaved; return impl -> (loops, ns-per-call samples).

    ``around[impl]`` is entered around each of that implementation's batches (outside the timed
    region), e.g. to force a fastarm backend.
    """
    around = around or {}
    res = resolution_ns if resolution_ns is not None else timer_resolution_ns()
    loops = prepare(calls, sampling, around, res)
    samples: dict[str, list[float]] = {impl: [] for impl in calls}
    for i in range(sampling.samples):
        sample_round(calls, loops, around, samples, i, on_sample)
    return {impl: (loops[impl], samples[impl]) for impl in calls}


def case_record(
    group: Any, impl: str, loops: int, samples: list[float], workers: int
) -> dict[str, Any]:
    return {
        "id": f"{group.id}/{impl}",
        "group": group.id,
        "op": group.op,
        "dtype": group.dtype,
        "n": group.n,
        "impl": impl,
        "loops": loops,
        "workers": workers,
        "samples_ns": samples,
        "stats": stats.summarize(samples),
    }


def add_speedups(cases: list[dict[str, Any]]) -> None:
    """Set ``speedup_vs_numpy`` = median(numpy) / median(impl) in each group (None: no numpy)."""
    numpy_median = {c["group"]: c["stats"]["median_ns"] for c in cases if c["impl"] == "numpy"}
    for c in cases:
        ref = numpy_median.get(c["group"])
        med = c["stats"]["median_ns"]
        c["speedup_vs_numpy"] = (ref / med) if ref and med > 0 else None


@contextlib.contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Callable[[], None]]:
    if not enabled or total <= 0:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        task = progress.add_task("benchmarking", total=total)
        yield lambda: progress.advance(task)


@contextlib.contextmanager
def _quiet_numpy() -> Iterator[None]:
    """NumPy's own float16 sums overflow at large n (that is what the user's expression does); do
    not print a warning for each call."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        yield
        return
    with np.errstate(all="ignore"):
        yield


def measure_plan(
    plan: Any,
    sampling: Sampling,
    *,
    seed: int = 0,
    progress: bool = False,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Measure every group of a :class:`fastarm.bench.suite.Plan` in this process."""
    from . import suite

    notes: list[str] = []
    cases: list[dict[str, Any]] = []
    res = timer_resolution_ns()
    fastarm = None
    if any(suite.impl_backend(i) for _, impls in plan.groups for i in impls):
        fastarm, _ = suite.load_fastarm()
    prepared: list[
        tuple[
            Any,
            dict[str, Callable[[], Any]],
            dict[str, Any],
            dict[str, int],
            dict[str, list[float]],
        ]
    ] = []
    with _quiet_numpy():
        for group, impls in plan.groups:
            calls, omitted = suite.build_callables(group, impls, seed)
            notes.extend(omitted)
            if not calls:
                continue
            around = {
                impl: functools.partial(suite.forced_backend, fastarm, suite.impl_backend(impl))
                for impl in calls
                if suite.impl_backend(impl)
            }
            loops = prepare(calls, sampling, around, res)
            prepared.append((group, calls, around, loops, {impl: [] for impl in calls}))
        total = sum(len(p[1]) for p in prepared) * sampling.samples
        with _progress(total, progress) as tick:
            for i in range(sampling.samples):
                for _group, calls, around, loops, samples in prepared:
                    sample_round(calls, loops, around, samples, i, tick)
    for group, calls, _around, loops, samples in prepared:
        for impl in calls:
            cases.append(case_record(group, impl, loops[impl], samples[impl], 1))
    add_speedups(cases)
    return cases, notes


# ---------------------------------------------------------------------------------------------
# Worker processes


def run_workers(
    workers: int, run_args: Sequence[str], *, env: Mapping[str, str] | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Run ``python -m fastarm.bench run --json`` in ``workers`` fresh interpreters, one after the
    other, and pool their samples per case (each sample tagged with its worker in
    ``sample_workers``).
    """
    docs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="fastarm-workers-") as tmp:
        for w in range(workers):
            out = Path(tmp) / f"worker-{w}.json"
            cmd = [
                sys.executable,
                "-m",
                "fastarm.bench",
                "run",
                "--json",
                str(out),
                "--workers",
                "1",
            ]
            cmd += list(run_args)
            proc = subprocess.run(cmd, env=dict(env) if env is not None else None, check=False)
            if proc.returncode != 0:
                raise RuntimeError(f"worker {w} failed with exit code {proc.returncode}")
            docs.append(json.loads(out.read_text()))
    return pool_workers(docs)


def pool_workers(docs: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Pool the cases of several worker results (same selection) into one list of cases."""
    pooled: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for w, doc in enumerate(docs):
        for note in doc.get("notes", []):
            if note not in notes:
                notes.append(note)
        for case in doc["cases"]:
            entry = pooled.get(case["id"])
            if entry is None:
                entry = {k: v for k, v in case.items() if k not in ("stats", "speedup_vs_numpy")}
                entry["samples_ns"] = []
                entry["sample_workers"] = []
                entry["loops_per_worker"] = []
                pooled[case["id"]] = entry
            entry["samples_ns"].extend(case["samples_ns"])
            entry["sample_workers"].extend([w] * len(case["samples_ns"]))
            entry["loops_per_worker"].append(case["loops"])
    cases = list(pooled.values())
    for case in cases:
        case["workers"] = len(set(case["sample_workers"]))
        case["loops"] = max(case["loops_per_worker"])
        case["stats"] = stats.summarize(case["samples_ns"])
    add_speedups(cases)
    return cases, notes


def default_progress() -> bool:
    """Progress bars only when stderr is a terminal (never in tests or CI logs)."""
    try:
        return os.isatty(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):
        return False
