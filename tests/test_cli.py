"""The CLI end to end, in subprocesses: every exit code, refusal across environments, Ctrl-C."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench_helpers import TINY, case, cli, doc, environment, samples, subprocess_env
from fastarm.bench import results

CID = "dot/float32/1536/fastarm"


def write(path: Path, d: dict) -> Path:
    results.write_atomic(path, d)
    return path


def synthetic(tmp_path: Path, name: str, median: float, spread: float = 0.01, **kw) -> Path:
    values = samples(median, spread, seed=sum(map(ord, name)))
    return write(tmp_path / f"{name}.json", doc([case(CID, values)], **kw))


def test_run_end_to_end_on_a_tiny_quick_selection(tmp_path: Path) -> None:
    proc = cli("run", *TINY, "--root", tmp_path, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    result = payload["result"]
    assert result["schema_version"] == 1 and result["profile"] == "quick"
    assert result["environment"]["key"] and result["environment"]["kind"]
    impls = [c["impl"] for c in result["cases"]]
    assert impls[0] == "numpy" and len(set(impls)) == len(impls)
    for c in result["cases"]:
        assert c["group"] == "dot/float32/1536" and c["id"] == f"{c['group']}/{c['impl']}"
        assert len(c["samples_ns"]) == 3 and all(v > 0 for v in c["samples_ns"])
        s = c["stats"]
        assert s["min_ns"] <= s["q1_ns"] <= s["median_ns"] <= s["q3_ns"]
        assert c["loops"] >= 1 and c["speedup_vs_numpy"] > 0
    stored = Path(payload["result_path"])
    assert stored.parent == tmp_path / "results" / result["environment"]["key"]
    assert results.load(stored)["cases"] == result["cases"]


def test_run_table_output_and_baseline_cycle(tmp_path: Path) -> None:
    proc = cli("run", *TINY, "--root", tmp_path, "--save")
    assert proc.returncode == 0, proc.stderr
    assert "speed-up vs NumPy" in proc.stdout and "baseline saved" in proc.stderr
    proc = cli("baseline", "show", "--root", tmp_path)
    assert proc.returncode == 0 and "dot/float32/1536" in proc.stdout
    proc = cli("run", *TINY, "--root", tmp_path, "--compare", "--format", "markdown")
    assert proc.returncode in (0, 1, 3), proc.stderr  # real timings: verdicts vary
    assert "| case" in proc.stdout and "run vs baseline" in proc.stdout
    proc = cli("compare", "--root", tmp_path)  # latest result of this environment vs its baseline
    assert proc.returncode in (0, 1, 3) and "cases compared" in proc.stdout


def test_exit_0_same(tmp_path: Path) -> None:
    proc = cli("compare", synthetic(tmp_path, "new", 1000.0), synthetic(tmp_path, "base", 1000.0))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "exit code 0: ok" in proc.stdout


def test_exit_1_regression(tmp_path: Path) -> None:
    proc = cli("compare", synthetic(tmp_path, "new", 1300.0), synthetic(tmp_path, "base", 1000.0))
    assert proc.returncode == 1
    assert "SLOWER" in proc.stdout and "regression" in proc.stdout


def test_exit_2_no_baseline(tmp_path: Path) -> None:
    proc = cli("compare", synthetic(tmp_path, "new", 1000.0), "--root", tmp_path / "empty")
    assert proc.returncode == 2
    assert "no baseline for environment" in proc.stderr


def test_exit_2_cross_environment_refused_then_informational(tmp_path: Path) -> None:
    new = synthetic(
        tmp_path, "new", 3000.0, env=environment("linux-x86_64-x-container", "container")
    )
    base = synthetic(tmp_path, "base", 1000.0)
    proc = cli("compare", new, base)
    assert proc.returncode == 2
    assert "environments differ" in proc.stderr and "--allow-cross-env" in proc.stderr
    assert proc.stdout == ""
    proc = cli("compare", new, base, "--allow-cross-env")
    assert proc.returncode == 0  # informational: never 1, although it is 3x slower
    assert proc.stdout.startswith("INFORMATIONAL") and "SLOWER" in proc.stdout
    assert "not representative of native hardware" in proc.stdout


def test_emulated_never_gates(tmp_path: Path) -> None:
    emu = environment("linux-aarch64-x-emulated", "emulated")
    proc = cli(
        "compare",
        synthetic(tmp_path, "new", 3000.0, env=emu),
        synthetic(tmp_path, "base", 1000.0, env=emu),
    )
    assert proc.returncode == 0
    assert "SLOWER" in proc.stdout and "never gates" in proc.stdout


def test_exit_3_too_noisy(tmp_path: Path) -> None:
    new = synthetic(tmp_path, "new", 1000.0, spread=0.6)
    base = synthetic(tmp_path, "base", 1000.0, spread=0.6)
    proc = cli("compare", new, base)
    assert proc.returncode == 3
    assert "too noisy" in proc.stdout


def test_exit_4_corrupt_json_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "corrupt.json"
    bad.write_text('{"schema_version": 1, "cases": [')
    proc = cli("compare", bad, synthetic(tmp_path, "base", 1000.0))
    assert proc.returncode == 4
    assert str(bad) in proc.stderr and "not valid JSON" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--profile", "enormous"],
        ["run", "--workers", "0"],
        ["compare", "--threshold", "lots"],
        ["frobnicate"],
        [],
    ],
)
def test_exit_4_bad_command_line(args: list[str]) -> None:
    proc = cli(*args)
    assert proc.returncode == 4
    assert "error" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("selection", "message"),
    [("no-such-case", "no case selected"), ("dot and (", "-k")],
)
def test_exit_4_bad_selection(tmp_path: Path, selection: str, message: str) -> None:
    proc = cli("run", "--json", tmp_path / "r.json", "-k", selection)
    assert proc.returncode == 4
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "r.json").exists()


def test_exit_4_unavailable_transport_or_conflict(tmp_path: Path) -> None:
    proc = cli("run", "--json", tmp_path / "r.json", "--vm", "somehost")
    assert proc.returncode == 4 and "--json measures here" in proc.stderr


def test_ab_with_two_files(tmp_path: Path) -> None:
    a = synthetic(tmp_path, "a", 1000.0)
    b = synthetic(tmp_path, "b", 2000.0)
    proc = cli("ab", a, b)
    assert proc.returncode == 1
    assert proc.stdout.startswith("B vs A")
    assert cli("ab", a).returncode == 4


def test_ab_two_backends_interleaved(tmp_path: Path) -> None:
    spec = importlib.util.find_spec("fastarm._simd")
    if spec is None:
        pytest.skip("fastarm's extension is not built in this checkout (A/B needs two backends)")
    proc = cli(
        "ab", "--b-backend", "scalar", *TINY, "--root", tmp_path, "--format", "json", timeout=300
    )
    assert proc.returncode in (0, 1, 3), proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["base_label"] == "A=fastarm" and payload["new_label"] == "B=fastarm[scalar]"
    assert [c["id"] for c in payload["cases"]] == ["dot/float32/1536/A/B"]


def test_baseline_save_show_compare(tmp_path: Path) -> None:
    first = synthetic(tmp_path, "first", 1000.0)
    proc = cli("baseline", "save", first, "--root", tmp_path)
    assert proc.returncode == 0
    key = environment()["key"]
    assert results.load(tmp_path / "baselines" / f"{key}.json") == results.load(first)
    assert cli("baseline", "show", key, "--root", tmp_path).returncode == 0
    proc = cli("baseline", "show", "no-such-environment", "--root", tmp_path)
    assert proc.returncode == 2 and key in proc.stderr  # lists the baselines that exist
    slower = synthetic(tmp_path, "slower", 1400.0)
    assert cli("baseline", "compare", slower, "--root", tmp_path).returncode == 1


def test_env_command() -> None:
    proc = cli("env", "--json")
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)
    assert {"key", "kind", "layers"} <= set(env)
    proc = cli("env")
    assert proc.returncode == 0 and env["key"] in proc.stdout


def test_report_latest_per_environment(tmp_path: Path) -> None:
    results.store_result(tmp_path, doc([case(CID, samples(1000.0))]))
    other = environment("linux-x86_64-x-vm.kvm", "vm")
    results.store_result(tmp_path, doc([case(CID, samples(900.0))], env=other))
    proc = cli("report", "--root", tmp_path)
    assert proc.returncode == 0
    assert environment()["key"] in proc.stdout and other["key"] in proc.stdout
    assert "not representative" in proc.stdout  # the vm run carries the warning
    proc = cli("report", "--root", tmp_path, "--format", "json")
    assert len(json.loads(proc.stdout)) == 2
    assert cli("report", "--root", tmp_path / "nothing").returncode == 2


def test_report_envs_hook(tmp_path: Path) -> None:
    results.store_result(tmp_path, doc([case(CID, samples(1000.0))]))
    proc = cli("report", "--envs", "--root", tmp_path)
    if importlib.util.find_spec("fastarm.bench.crossenv") is None:
        assert proc.returncode == 4 and "not available" in proc.stderr
    else:
        assert proc.returncode == 0, proc.stderr


def test_ctrl_c_exits_130_and_writes_nothing(tmp_path: Path) -> None:
    baseline = synthetic(tmp_path, "old", 1000.0)
    key = environment()["key"]
    root = tmp_path / "root"
    (root / "baselines").mkdir(parents=True)
    before = baseline.read_bytes()
    (root / "baselines" / f"{key}.json").write_bytes(before)
    cmd = [sys.executable, "-m", "fastarm.bench", "run", "--root", str(root), "--save",
           "--samples", "200", "--min-sample-ms", "20", "-k", "dot and 1536"]  # fmt: skip
    proc = subprocess.Popen(
        cmd,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    time.sleep(2.5)  # well inside the measurement
    assert proc.poll() is None, proc.communicate()
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert (root / "baselines" / f"{key}.json").read_bytes() == before
    assert sorted(p.name for p in (root / "baselines").iterdir()) == [f"{key}.json"]
    assert not (root / "results").exists()


@pytest.mark.parametrize("missing", ["numpy", "tabulate"])
def test_missing_bench_extra_is_a_clear_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    missing: str,
) -> None:
    from fastarm.bench import cli as cli_mod

    monkeypatch.setitem(sys.modules, missing, None)  # as if the extra were not installed
    if missing == "numpy":
        args = ["run", "--json", str(tmp_path / "r.json"), *TINY]
    else:
        args = ["compare", str(synthetic(tmp_path, "n", 1.0)), str(synthetic(tmp_path, "b", 1.0))]
    assert cli_mod.main(args) == 4
    err = capsys.readouterr().err
    assert f"needs {missing}" in err and "fastarm[bench]" in err
    assert not (tmp_path / "r.json").exists()
