"""Synthetic result files written per the result JSON schema (schema_version 1) for report tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

Case = tuple[str, str, int]

HOST_CPU = "Intel(R) Xeon(R) Platinum 8488C"
GRAVITON_CPU = "Neoverse-V1"


def layer(kind: str, name: str) -> dict[str, Any]:
    return {"type": kind, "name": name, "evidence": [f"synthetic {kind} evidence"]}


def make_result(
    key: str,
    kind: str,
    arch: str,
    times: dict[Case, tuple[float, float]],
    *,
    layers: Optional[list[dict[str, Any]]] = None,
    cpu_model: str = HOST_CPU,
    started_at: str = "2026-11-26T12:00:00Z",
    runner: str = "native",
    record_speedup: bool = True,
) -> dict[str, Any]:
    """A result whose cases have the given (numpy_ns, fastarm_ns) medians per (op, dtype, n)."""
    cases = []
    for (op, dtype, n), (numpy_ns, fastarm_ns) in times.items():
        for impl, median in (("numpy", numpy_ns), ("fastarm", fastarm_ns)):
            samples = [median * 0.97, median * 0.99, median, median * 1.01, median * 1.04]
            case: dict[str, Any] = {
                "id": f"{op}/{dtype}/{n}/{impl}",
                "group": f"{op}/{dtype}/{n}",
                "op": op,
                "dtype": dtype,
                "n": n,
                "impl": impl,
                "loops": 100,
                "workers": 1,
                "samples_ns": samples,
                "stats": {
                    "median_ns": median,
                    "mean_ns": sum(samples) / len(samples),
                    "min_ns": min(samples),
                    "q1_ns": samples[1],
                    "q3_ns": samples[3],
                    "stdev_ns": median * 0.02,
                    "n": len(samples),
                },
            }
            if record_speedup:
                case["speedup_vs_numpy"] = numpy_ns / median
            cases.append(case)
    return {
        "schema_version": 1,
        "fastarm_version": "0.1.0",
        "command": ["python", "-m", "fastarm.bench", "run", "--json", "out.json"],
        "started_at": started_at,
        "finished_at": started_at,
        "profile": "quick",
        "environment": {
            "key": key,
            "kind": kind,
            "layers": layers or [],
            "os": "Linux",
            "os_release": "Debian GNU/Linux 12 (bookworm)",
            "kernel": "6.1.0",
            "arch": arch,
            "cpu_model": cpu_model,
            "cpu_count": 2,
            "cpu_features": ["neon"] if arch == "aarch64" else ["avx2"],
            "backend": "neon" if arch == "aarch64" else "avx2",
            "backends_compiled": ["scalar"],
            "backends_usable": ["scalar"],
            "python": "3.11.7",
            "numpy": "2.4.6",
            "compiler": "gcc 12",
            "blas": [],
            "git": {"commit": "0" * 40, "dirty": False},
            "soft": {"hostname": "h", "loadavg": [0, 0, 0], "cpu_mhz": None},
        },
        "runner": {"name": runner},
        "cases": cases,
    }


def write_result(root: Path, result: dict[str, Any], name: Optional[str] = None) -> Path:
    key = result["environment"]["key"]
    stamp = result["started_at"].replace(":", "").replace("-", "")
    path = (
        root / "benchmarks" / "results" / key / (name or f"{stamp}-{result['runner']['name']}.json")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result), encoding="utf-8")
    return path


def write_baseline(root: Path, result: dict[str, Any]) -> Path:
    path = root / "benchmarks" / "baselines" / f"{result['environment']['key']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result), encoding="utf-8")
    return path
