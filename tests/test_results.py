from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bench_helpers import case, doc, environment, samples
from fastarm.bench import results

SRC = Path(__file__).resolve().parents[1] / "src"


def small_doc(median: float = 1000.0) -> dict:
    return doc([case("dot/float32/1536/numpy", samples(median))])


def test_round_trip(tmp_path: Path) -> None:
    original = small_doc()
    path = results.write_atomic(tmp_path / "r.json", original)
    loaded = results.load(path)
    assert loaded == json.loads(json.dumps(original))
    assert loaded["schema_version"] == results.SCHEMA_VERSION
    assert loaded["cases"][0]["samples_ns"] == original["cases"][0]["samples_ns"]
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary file left


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("schema_version"), "missing field 'schema_version'"),
        (lambda d: d.update(schema_version=2), "schema_version 2 is not supported"),
        (lambda d: d.pop("cases"), "missing field 'cases'"),
        (lambda d: d["environment"].pop("key"), "environment.key"),
        (lambda d: d["environment"].update(kind="cloud"), "environment.kind"),
        (lambda d: d["cases"][0].pop("samples_ns"), "cases[0].samples_ns"),
        (lambda d: d["cases"][0].update(samples_ns=[]), "non-empty list"),
        (lambda d: d["cases"][0].update(n="big"), "cases[0].n"),
        (lambda d: d["cases"][0]["stats"].pop("median_ns"), "stats.median_ns"),
        (lambda d: d["cases"].append(dict(d["cases"][0])), "duplicate case id"),
    ],
)
def test_validate_names_the_problem_and_the_file(tmp_path: Path, mutate, message: str) -> None:
    bad = small_doc()
    mutate(bad)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(results.ResultError) as info:
        results.load(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_corrupt_json_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "truncated.json"
    path.write_text(results.dumps(small_doc())[:200])
    with pytest.raises(results.ResultError, match="not valid JSON") as info:
        results.load(path)
    assert info.value.source == str(path)


def test_missing_file_and_non_object(tmp_path: Path) -> None:
    with pytest.raises(results.ResultError, match="no such file"):
        results.load(tmp_path / "nope.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(results.ResultError, match="JSON object"):
        results.load(tmp_path / "list.json")


@pytest.mark.parametrize("exc", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_interrupted_write_keeps_the_old_file(tmp_path: Path, exc: BaseException) -> None:
    target = tmp_path / "baselines" / "key.json"
    old = small_doc(1000.0)
    results.write_atomic(target, old)
    before = target.read_bytes()

    def serializer(d):
        results.dumps(d)
        raise exc  # the serializer fails after producing half of the work

    with pytest.raises(type(exc)):
        results.write_atomic(target, small_doc(2000.0), serializer=serializer)
    assert target.read_bytes() == before
    assert results.load(target) == json.loads(before)
    assert sorted(p.name for p in target.parent.iterdir()) == ["key.json"]


def test_killed_writer_keeps_the_old_file(tmp_path: Path) -> None:
    """A process killed with SIGKILL in the middle of a (slow) write leaves the old file intact."""
    target = tmp_path / "baseline.json"
    results.write_atomic(target, small_doc(1000.0))
    before = target.read_bytes()
    marker = tmp_path / "writing"
    script = textwrap.dedent(
        f"""
        import sys, time, pathlib
        sys.path.insert(0, {str(SRC)!r})
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from fastarm.bench import results
        from bench_helpers import case, doc, samples

        def slow(d):
            text = results.dumps(d)
            pathlib.Path({str(marker)!r}).write_text("started")
            time.sleep(60)  # killed here, between producing the text and the rename
            return text

        results.write_atomic({str(target)!r}, doc([case("dot/float32/1536/numpy", samples(5.0))]),
                             serializer=slow)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert proc.poll() is None, "the writer exited early"
            assert time.monotonic() < deadline, "the writer never started writing"
            time.sleep(0.02)
        temps = [p for p in tmp_path.iterdir() if p.name.startswith(".baseline.json.")]
        assert temps, "the write goes through a temporary file in the same directory"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert target.read_bytes() == before
    results.load(target)


def test_written_files_follow_the_umask(tmp_path: Path) -> None:
    """Like a plain open(): a baseline is readable by others and committed like any file."""
    old = os.umask(0o022)
    try:
        path = results.write_atomic(tmp_path / "b.json", small_doc(1000.0))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_storage_layout(tmp_path: Path) -> None:
    d = small_doc()
    key = d["environment"]["key"]
    first = results.store_result(tmp_path, d)
    second = results.store_result(tmp_path, d)  # same timestamp: never overwrites
    assert first.parent == tmp_path / "results" / key
    assert first.name == "20260101T000005Z-native.json"
    assert second != first and second.exists()
    assert results.result_files(tmp_path, key) == [first, second]
    assert results.latest_result(tmp_path, key) == second
    assert results.baseline_path(tmp_path, key) == tmp_path / "baselines" / f"{key}.json"
    other = doc([case("dot/float32/1536/numpy", samples(1.0))], env=environment("other-key"))
    results.store_result(tmp_path, other)
    assert set(results.latest_per_environment(tmp_path)) == {key, "other-key"}
    assert results.latest_result(tmp_path / "empty") is None


def test_keys_cannot_escape_the_root(tmp_path: Path) -> None:
    with pytest.raises(results.ResultError):
        results.baseline_path(tmp_path, "../evil")


def test_default_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FASTARM_BENCH_ROOT", raising=False)
    project = tmp_path / "proj"
    (project / "sub" / "deeper").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname='x'\n")
    assert results.default_root(project / "sub" / "deeper") == project / "benchmarks"
    monkeypatch.setenv("FASTARM_BENCH_ROOT", str(tmp_path / "elsewhere"))
    assert results.default_root(project) == tmp_path / "elsewhere"
