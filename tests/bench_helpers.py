"""Synthetic result documents for the harness tests (seeded, so every test is deterministic)."""

from __future__ import annotations

import math
import random
from typing import Any, Sequence

from fastarm.bench import results, stats


def samples(median: float, spread: float = 0.01, n: int = 20, seed: int = 0) -> list[float]:
    """``n`` positive samples around ``median``, log-normal with relative spread ``spread``
    (seeded)."""
    rng = random.Random(seed)
    return [median * math.exp(rng.gauss(0.0, spread)) for _ in range(n)]


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


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a ``python -m fastarm.bench`` subprocess that imports the same fastarm as
    this test process (an installed copy under nox, ``src/`` in a checkout)."""
    import os
    from pathlib import Path

    import fastarm.bench.cli

    package_parent = str(Path(fastarm.bench.cli.__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
    env.pop("FASTARM_BENCH_ROOT", None)
    env.update(extra)
    return env


def cli(*args: Any, timeout: float = 120, **kw: Any) -> Any:
    """Run ``python -m fastarm.bench ARGS`` and return the CompletedProcess (text output)."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "fastarm.bench", *map(str, args)],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=timeout,
        **kw,
    )


#: A tiny real selection: one group, short samples (timings are real, assertions never on speed).
TINY = ["-k", "dot and float32 and 1536", "--samples", "3", "--min-sample-ms", "0.2"]
