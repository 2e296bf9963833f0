from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from pathlib import Path

from bench_helpers import case, doc, samples
from fastarm.bench import suite, timing


def test_timer_resolution_is_positive_and_small() -> None:
    res = timing.timer_resolution_ns()
    assert 0 < res < 1e6


def test_calibrate_reaches_the_minimum_sample_time(monkeypatch) -> None:
    # A deterministic clock model (1 us per call) so the loop-count search itself is checked
    # exactly; real timings on a shared machine vary too much to assert on.
    calls = []

    def model(fn, loops):
        calls.append(loops)
        return loops * 1000

    monkeypatch.setattr(timing, "time_loops", model)
    loops = timing.calibrate(lambda: None, min_sample_ns=1_000_000)
    assert loops * 1000 >= 1_000_000
    assert calls[-2] * 1000 < 1_000_000  # the previous try was too short
    assert loops < 1.2 * 1000 * 10  # no wild overshoot
    assert timing.calibrate(lambda: None, min_sample_ns=1e12, max_loops=5000) == 5000


def test_calibrate_with_the_real_timer() -> None:
    def work() -> None:
        sum(range(200))

    assert timing.calibrate(work, min_sample_ns=1_000_000) > 1


def test_gc_is_off_during_samples_and_restored() -> None:
    seen = []
    timing.measure_group({"f": lambda: seen.append(gc.isenabled())}, timing.Sampling(3, 10_000, 1))
    assert seen and not any(seen)
    assert gc.isenabled()


def test_implementations_are_interleaved_round_robin() -> None:
    order: list[str] = []

    def make(name: str):
        def fn() -> None:
            if not order or order[-1] != name:
                order.append(name)
            time.sleep(0.0002)

        return fn

    calls = {name: make(name) for name in ("a", "b", "c")}
    out = timing.measure_group(calls, timing.Sampling(samples=3, min_sample_ns=500_000, warmup=0))
    assert {k: len(v[1]) for k, v in out.items()} == {"a": 3, "b": 3, "c": 3}
    sampled = order[-9:]  # after calibration: three rounds of a, b, c in rotated order
    assert sampled == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    for loops, values in out.values():
        assert loops >= 1 and all(v >= 200_000 for v in values)  # ns per call, >= the sleep


def test_measure_plan_records_cases_and_speedups() -> None:
    plan = suite.plan("quick", "dot and float32 and 1536", include_simsimd=True)
    cases, _notes = timing.measure_plan(plan, timing.Sampling(samples=3, min_sample_ns=100_000))
    ids = [c["id"] for c in cases]
    assert ids[0] == "dot/float32/1536/numpy" and len(ids) == len(plan.cases)
    for c in cases:
        assert len(c["samples_ns"]) == 3 and c["stats"]["n"] == 3
        assert c["stats"]["min_ns"] <= c["stats"]["median_ns"]
        assert c["speedup_vs_numpy"] > 0
    assert cases[0]["speedup_vs_numpy"] == 1.0


def test_pool_workers_tags_samples() -> None:
    w0 = doc([case("dot/float32/1536/numpy", samples(100.0, n=4, seed=1))])
    w1 = doc([case("dot/float32/1536/numpy", samples(120.0, n=4, seed=2))])
    cases, _ = timing.pool_workers([w0, w1])
    (c,) = cases
    assert c["sample_workers"] == [0] * 4 + [1] * 4
    assert c["samples_ns"] == w0["cases"][0]["samples_ns"] + w1["cases"][0]["samples_ns"]
    assert c["workers"] == 2 and c["stats"]["n"] == 8


def test_workers_are_fresh_processes(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    src = Path(__file__).resolve().parents[1] / "src"
    cmd = [
        sys.executable,
        "-m",
        "fastarm.bench",
        "run",
        "--json",
        str(out),
        "--workers",
        "2",
        "-k",
        "dot/float32/1536/numpy",
        "--samples",
        "3",
        "--min-sample-ms",
        "0.2",
    ]
    env = {**__import__("os").environ}
    env["PYTHONPATH"] = str(src) + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    subprocess.run(cmd, check=True, env=env)
    (c,) = json.loads(out.read_text())["cases"]
    assert c["workers"] == 2 and c["sample_workers"] == [0, 0, 0, 1, 1, 1]
    assert len(c["loops_per_worker"]) == 2
