from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Sequence

from bench_helpers import TINY, case, doc, samples, subprocess_env
from fastarm.bench import results, session
from fastarm.bench.runners import RunnerError
from fastarm.bench.runners.native import NativeRunner


class BrokenRunner:
    """A transport that fails the way an unreachable daemon or host does (that failure is what is
    under test here, so a stand-in is the honest way to produce it)."""

    name = "broken"

    def execute(self, run_args: Sequence[str], out_json: Path) -> dict[str, Any]:
        raise RunnerError("the engine is unreachable")


class FileRunner:
    """A transport that brings back a given document (or raw text) as the run's result."""

    name = "file"

    def __init__(self, payload: str) -> None:
        self.payload = payload

    def execute(self, run_args: Sequence[str], out_json: Path) -> dict[str, Any]:
        Path(out_json).write_text(self.payload)
        return {"host": "example"}


def run(runner: Any, root: Path, **kw: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = session.bench(runner, TINY, root=root, out=out, err=err, **kw)
    return code, out.getvalue(), err.getvalue()


def test_native_run_is_stored_and_reported(tmp_path: Path) -> None:
    code, out, err = run(NativeRunner(env=subprocess_env()), tmp_path)
    assert code == 0
    (stored,) = results.result_files(tmp_path)
    assert stored.name.endswith("-native.json")
    doc_ = results.load(stored)
    assert doc_["runner"]["name"] == "native"
    assert stored.parent.name == doc_["environment"]["key"]
    assert "dot/float32/1536" in out and "result stored" in err
    assert not (tmp_path / "baselines").exists()


def test_save_then_compare(tmp_path: Path) -> None:
    runner = NativeRunner(env=subprocess_env())
    code, _, err = run(runner, tmp_path, save=True, compare=True)
    assert code == 2 and "no baseline" in err  # nothing to compare with yet ...
    assert len(list((tmp_path / "baselines").glob("*.json"))) == 1  # ... but now there is
    code, out, _ = run(runner, tmp_path, fmt="json")
    payload = json.loads(out)
    assert payload["comparison"] is not None  # a baseline exists: compared by default
    assert code == payload["exit_code"] == payload["comparison"]["exit_code"]
    assert code in (0, 1, 3)  # real timings: the verdict itself is not asserted
    assert len(results.result_files(tmp_path)) == 2
    code, _, _ = run(runner, tmp_path, compare=False, fmt="json")
    assert code == 0


def test_runner_error_exits_4(tmp_path: Path) -> None:
    code, _, err = run(BrokenRunner(), tmp_path)
    assert code == 4 and "engine is unreachable" in err
    assert not tmp_path.joinpath("results").exists()


def test_corrupt_result_exits_4(tmp_path: Path) -> None:
    code, _, err = run(FileRunner('{"schema_version": 1, "cases": ['), tmp_path)
    assert code == 4 and "not valid JSON" in err


def test_runner_facts_are_attached(tmp_path: Path) -> None:
    d = doc([case("dot/float32/1536/numpy", samples(1000.0))])
    code, out, _ = run(FileRunner(json.dumps(d)), tmp_path, fmt="json")
    assert code == 0
    assert json.loads(out)["result"]["runner"] == {"name": "file", "host": "example"}
    (stored,) = results.result_files(tmp_path)
    assert stored.name == "20260101T000005Z-file.json"


def test_regression_against_stored_baseline(tmp_path: Path) -> None:
    base = doc([case("dot/float32/1536/fastarm", samples(1000.0, seed=1))])
    results.write_atomic(results.baseline_path(tmp_path, base["environment"]["key"]), base)
    slow = doc([case("dot/float32/1536/fastarm", samples(1500.0, seed=2))])
    code, out, _ = run(FileRunner(json.dumps(slow)), tmp_path)
    assert code == 1 and "SLOWER" in out
