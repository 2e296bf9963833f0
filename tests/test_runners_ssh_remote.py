"""The remote half of the SSH runner, run here as the remote runs it (a script, stdlib only)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import sshd
from fastarm.bench.runners import _ssh_package as package
from fastarm.bench.runners import _ssh_remote as remote

HELPER = [sys.executable, str(Path(remote.__file__))]
SLEEPER = (
    "import subprocess, sys, time; "
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)']); time.sleep(300)"
)


def helper(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HELPER, *args],
        capture_output=True,
        text=True,
        timeout=600,
        **kw,  # type: ignore[call-overload]
    )


def group_alive(pgid: int) -> bool:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def test_run_passes_the_exit_code_through_and_records_the_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "run.pid"
    proc = helper(
        "run", "--pidfile", str(pidfile), "--", sys.executable, "-c", "raise SystemExit(7)"
    )
    assert proc.returncode == 7
    assert int(pidfile.read_text()) > 1


def test_run_stops_the_whole_group_at_the_timeout(tmp_path: Path) -> None:
    pidfile = tmp_path / "run.pid"
    proc = helper(
        "run", "--pidfile", str(pidfile), "--timeout", "2", "--", sys.executable, "-c", SLEEPER
    )
    assert proc.returncode == remote.EXIT_TIMEOUT
    assert "2 s timeout" in proc.stderr
    assert not group_alive(int(pidfile.read_text()))  # benchmark and its worker


def test_cleanup_stops_a_running_group_and_removes_the_run_directory(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "r1"
    run_dir.mkdir(parents=True)
    launcher = subprocess.Popen(
        [*HELPER, "run", "--pidfile", str(run_dir / "run.pid"), "--", sys.executable, "-c", SLEEPER]
    )
    deadline = time.monotonic() + 30
    while not (run_dir / "run.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    pgid = int((run_dir / "run.pid").read_text())
    assert group_alive(pgid)
    proc = helper("cleanup", "--run-dir", str(run_dir))
    assert json.loads(proc.stdout) == {"stopped": True, "removed": True}
    assert launcher.wait(timeout=30) == 128 + 15  # the benchmark ended by SIGTERM
    assert not group_alive(pgid) and not run_dir.exists()


def _prepare(workdir: Path, archive: package.SourceArchive) -> subprocess.CompletedProcess[str]:
    return helper(
        "prepare", "--workdir", str(workdir), "--archive", str(archive.path),
        "--source-id", archive.source_id, "--offline",
    )  # fmt: skip


def test_prepare_builds_once_and_points_the_venv_at_the_source(tmp_path: Path) -> None:
    tree = sshd.tiny_extension_tree(tmp_path / "tree")
    archive = package.build_archive(tree, tmp_path / "archives")
    workdir = tmp_path / "work"
    first = _prepare(workdir, archive)
    assert first.returncode == 0, first.stderr
    info = json.loads(first.stdout)
    assert info["venv_created"] and info["built"] and info["deps"] == "none requested"
    source = workdir / "src" / archive.source_id
    assert list((source / "src" / "fastarm").glob("_probe*.so"))  # compiled in place
    probe = subprocess.run(
        [info["python"], "-c", "import fastarm._probe as p; print(p.__file__)"],
        capture_output=True, text=True, check=True, cwd=tmp_path, env=remote.clean_env(),
    )  # fmt: skip
    assert probe.stdout.startswith(str(source))
    again = json.loads(_prepare(workdir, archive).stdout)
    assert not again["venv_created"] and not again["built"]


def test_prepare_keeps_only_recent_sources(tmp_path: Path) -> None:
    tree = sshd.tiny_extension_tree(tmp_path / "tree")
    workdir = tmp_path / "work"
    ids = []
    for i in range(remote.KEEP_SOURCES + 1):
        (tree / "src" / "fastarm" / "__init__.py").write_text(f"VERSION = {i}\n")
        archive = package.build_archive(tree, workdir / "archives")
        assert _prepare(workdir, archive).returncode == 0
        ids.append(archive.source_id)
        time.sleep(0.05)
    kept = sorted(p.name for p in (workdir / "src").iterdir() if not p.name.startswith("."))
    assert kept == sorted(ids[1:])  # the oldest build and its archive are gone
    assert not (workdir / "archives" / f"fastarm-src-{ids[0]}.tar.gz").exists()


def test_prepare_refuses_an_archive_that_escapes(tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        data = b"pwned\n"
        info = tarfile.TarInfo("../outside.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    proc = helper(
        "prepare", "--workdir", str(tmp_path / "work"), "--archive", str(evil),
        "--source-id", "0123456789abcdef", "--offline",
    )  # fmt: skip
    assert proc.returncode == remote.EXIT_ARCHIVE
    assert "refusing archive member '../outside.txt'" in proc.stderr
    assert not (tmp_path / "work" / "src" / "outside.txt").exists()
    assert not (tmp_path / "outside.txt").exists()


def test_prepare_reports_a_build_failure_with_the_compiler_output(tmp_path: Path) -> None:
    tree = sshd.tiny_extension_tree(tmp_path / "tree")
    (tree / "src" / "fastarm" / "_probe.c").write_text("this is not C;\n")
    archive = package.build_archive(tree, tmp_path / "archives")
    proc = _prepare(tmp_path / "work", archive)
    assert proc.returncode == remote.EXIT_BUILD
    assert "building the extension failed" in proc.stderr and "_probe.c" in proc.stderr
    assert not (tmp_path / "work" / "src" / archive.source_id).exists()  # retried next time


def test_prepare_prunes_stale_run_directories_only(tmp_path: Path) -> None:
    import os

    tree = sshd.tiny_extension_tree(tmp_path / "tree")
    archive = package.build_archive(tree, tmp_path / "archives")
    runs = tmp_path / "work" / "runs"
    stale, fresh, busy = runs / "stale", runs / "fresh", runs / "busy"
    for d in (stale, fresh, busy):
        d.mkdir(parents=True)
    (busy / "run.pid").write_text(f"{os.getpgid(0)}\n")  # a live process group (this test's)
    old = time.time() - remote.STALE_RUN_SECONDS - 60
    for d in (stale, busy):
        os.utime(d, (old, old))
    assert _prepare(tmp_path / "work", archive).returncode == 0
    assert not stale.exists() and fresh.exists() and busy.exists()
