from __future__ import annotations

from pathlib import Path

import pytest

from bench_helpers import TINY, subprocess_env
from fastarm.bench import results, runners
from fastarm.bench.runners import native


def test_registry() -> None:
    assert set(runners.RUNNERS) == {"native", "docker", "ssh"}
    assert runners.load("native") is native
    with pytest.raises(runners.RunnerError, match="unknown runner"):
        runners.load("carrier-pigeon")


@pytest.mark.parametrize("name", ["docker", "ssh"])
def test_optional_runners_load_or_say_what_is_missing(name: str) -> None:
    try:
        module = runners.load(name)
    except runners.RunnerError as exc:
        message = str(exc)
        assert name in message
        assert "not available" in message or f"fastarm[{runners.EXTRAS[name]}]" in message
    else:
        assert callable(module.create) and callable(module.add_arguments)


def test_native_runner_executes_the_run_command(tmp_path: Path) -> None:
    runner = native.NativeRunner(env=subprocess_env())
    out = tmp_path / "deep" / "result.json"
    facts = runner.execute(TINY, out)
    assert facts["name"] == "native"
    doc = results.load(out)
    assert doc["cases"][0]["impl"] == "numpy"
    assert all(c["group"] == "dot/float32/1536" for c in doc["cases"])
    assert doc["command"][:5] == ["python", "-m", "fastarm.bench", "run", "--json"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["result.json"]  # temp dir cleaned


def test_native_runner_failure_is_a_runner_error(tmp_path: Path) -> None:
    runner = native.NativeRunner(env=subprocess_env())
    out = tmp_path / "result.json"
    with pytest.raises(runners.RunnerError, match="exit code 4"):
        runner.execute(["-k", "no-such-case-anywhere"], out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_create() -> None:
    import argparse

    runner = native.create(argparse.Namespace())
    assert runner.name == "native"
