"""Synthetic result documents for the harness tests (seeded, so every test is deterministic)."""

from __future__ import annotations

import random
from typing import Any, Sequence

from fastarm.bench import results, stats


def samples(median: float, spread: float = 0.01, n: int = 20, seed: int = 0) -> list[float]:
    """``n`` samples around ``median`` with relative Gaussian noise ``spread`` (seeded)."""
    rng = random.Random(seed)
    return [median * (1.0 + rng.gauss(0.0, spread)) for _ in range(n)]


def case(cid: str, values: Sequence[float], workers: Sequence[int] | None = None) -> dict[str, Any]:
    op, dtype, n, impl = cid.split("/")
    out: dict[str, Any] = {
        "id": cid,
        "group": f"{op}/{dtype}/{n}",
        "op": op,
        "dtype": dtype,
        "n": int(n),
        "impl": impl,
        "loops": 10,
        "workers": len(set(workers)) if workers else 1,
        "samples_ns": list(values),
        "stats": stats.summarize(values),
        "speedup_vs_numpy": None,
    }
    if workers:
        out["sample_workers"] = list(workers)
    return out


def environment(
    key: str = "linux-x86_64-testcpu-native-avx2-py3.11", kind: str = "native"
) -> dict[str, Any]:
    layers = [] if kind == "native" else [{"type": kind, "name": "test", "evidence": ["synthetic"]}]
    return {
        "key": key,
        "kind": kind,
        "layers": layers,
        "os": "Linux",
        "arch": "x86_64",
        "cpu_model": "Test CPU",
        "backend": "avx2",
        "python": "3.11.7",
    }


def doc(
    cases: Sequence[dict[str, Any]],
    env: dict[str, Any] | None = None,
    runner: str = "native",
) -> dict[str, Any]:
    return results.make_result(
        command=["python", "-m", "fastarm.bench", "run"],
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:00:05Z",
        profile="quick",
        environment=env or environment(),
        cases=list(cases),
        runner={"name": runner},
    )


def run_doc(
    medians: dict[str, float], spread: float = 0.01, seed: int = 0, **kw: Any
) -> dict[str, Any]:
    """A result with one case per id, samples around the given medians."""
    return doc(
        [
            case(cid, samples(m, spread, seed=seed + i))
            for i, (cid, m) in enumerate(medians.items())
        ],
        **kw,
    )
