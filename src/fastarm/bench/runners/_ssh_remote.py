"""Remote half of the SSH runner, uploaded and run by the remote interpreter: stdlib only, 3.9+.

Commands (each prints at most one JSON line on stdout; errors go to stderr, with distinct exit
codes):

``prepare``  create or reuse ``WORKDIR/venv`` (``--system-site-packages``, so distro NumPy works
             offline), unpack the uploaded source archive into ``WORKDIR/src/<id>``, build the
             extension in place and point the venv at it with a ``.pth`` file, then make sure the
             bench extra's requirements are met (``pip install`` of what is missing, skipped with
             ``--offline``).  Serialised by a lock on ``WORKDIR/.lock``; an unchanged source is not
             rebuilt.
``run``      start a command in its own session / process group, record that group in a pid file,
             forward SIGINT/SIGTERM/SIGHUP to the group, and stop it after ``--timeout`` seconds.
``cleanup``  stop the process groups recorded in a run directory (TERM, then KILL) and delete the
             run directory unless ``--keep``.

Why not ``pip install`` the package itself: a non-isolated PEP 517 build needs the ``wheel``
package with setuptools < 70.1 (Python 3.11's bundled setuptools is 65.5), which an offline remote
often lacks, and an isolated build needs the network.  An in-place ``build_ext`` needs only
setuptools and a C compiler, works offline, and the ``.pth`` file makes the venv import exactly the
uploaded source.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Iterator, Optional, Sequence

EXIT_VENV = 10
EXIT_SETUPTOOLS = 11
EXIT_BUILD = 12
EXIT_IMPORT = 13
EXIT_TIMEOUT = 124
READY_MARKER = ".fastarm-ready"
DEPS_MARKER = ".fastarm-deps"
PTH_NAME = "fastarm-src.pth"
KEEP_SOURCES = 3


def _fail(code: int, message: str, output: str = "") -> int:
    tail = "\n".join(output.strip().splitlines()[-25:])
    sys.stderr.write(message + ("\n" + tail if tail else "") + "\n")
    sys.stderr.flush()
    return code


def _run(cmd: Sequence[str], cwd: Optional[Path] = None, env: Optional[dict[str, str]] = None):
    return subprocess.run(
        list(cmd),
        cwd=str(cwd) if cwd else None,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl

    with open(path, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _version_of(python: Path) -> Optional[str]:
    try:
        out = subprocess.run(
            [str(python), "-c", "import sys; print('.'.join(map(str, sys.version_info[:3])))"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _safe_extract(archive: Path, dest: Path) -> None:
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            name = member.name
            if (
                name.startswith("/")
                or ".." in Path(name).parts
                or not (member.isfile() or member.isdir())
            ):
                raise ValueError(f"refusing archive member {name!r}")
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
        else:  # pragma: no cover - Python without the extraction filters (< 3.9.17)
            tar.extractall(dest)


def _ensure_venv(workdir: Path) -> tuple[Path, bool]:
    venv = workdir / "venv"
    want = ".".join(map(str, sys.version_info[:3]))
    python = _venv_python(venv)
    if python.exists() and _version_of(python) == want:
        return python, False
    shutil.rmtree(venv, ignore_errors=True)
    proc = _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)])
    if proc.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        raise _Failure(
            EXIT_VENV,
            f"could not create a venv with {sys.executable} -m venv "
            "(Debian/Ubuntu: apt install python3-venv):",
            proc.stdout,
        )
    return python, True


class _Failure(Exception):
    def __init__(self, code: int, message: str, output: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.output = output


def _pip(python: Path, args: Sequence[str]):
    return _run(
        [str(python), "-m", "pip", "--disable-pip-version-check", "--no-input", *args],
        env=dict(os.environ, PIP_NO_INPUT="1"),
    )


def _build(python: Path, source: Path, offline: bool) -> None:
    has_setuptools = _run([str(python), "-c", "import setuptools"]).returncode == 0
    if not has_setuptools:
        if offline:
            raise _Failure(
                EXIT_SETUPTOOLS,
                "the remote Python has no setuptools and --offline forbids installing it "
                "(Debian/Ubuntu: apt install python3-setuptools)",
            )
        proc = _pip(python, ["install", "setuptools>=64"])
        if proc.returncode != 0:
            raise _Failure(
                EXIT_SETUPTOOLS, "could not install setuptools on the remote:", proc.stdout
            )
    if not (source / "setup.py").exists():
        return  # pure-Python tree: nothing to compile
    proc = _run([str(python), "setup.py", "build_ext", "--inplace"], cwd=source)
    if proc.returncode != 0:
        raise _Failure(
            EXIT_BUILD, f"building the extension failed on the remote (in {source}):", proc.stdout
        )


def _site_packages(python: Path) -> Path:
    proc = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    return Path(proc.stdout.strip().splitlines()[-1])


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _ensure_deps(python: Path, venv: Path, requirements: Sequence[str], offline: bool) -> str:
    if not requirements:
        return "none requested"
    if offline:
        return "skipped (--offline)"
    wanted = "\n".join(sorted(requirements))
    marker = venv / DEPS_MARKER
    if marker.exists() and marker.read_text() == wanted:
        return "satisfied (cached)"
    proc = _pip(python, ["install", "--upgrade-strategy", "only-if-needed", *requirements])
    if proc.returncode != 0:
        tail = " | ".join(proc.stdout.strip().splitlines()[-3:])
        return f"incomplete (pip failed, continuing with what is installed): {tail}"
    _write_atomic(marker, wanted)
    return "satisfied"


def _prune_sources(sources: Path, keep: Path) -> None:
    entries = sorted(
        (p for p in sources.iterdir() if p.is_dir() and p != keep and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in entries[KEEP_SOURCES - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def prepare(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        with _locked(workdir / ".lock"):
            python, venv_created = _ensure_venv(workdir)
            sources = workdir / "src"
            sources.mkdir(exist_ok=True)
            source = sources / args.source_id
            built = False
            if not (source / READY_MARKER).exists():
                shutil.rmtree(source, ignore_errors=True)
                staging = sources / f".{args.source_id}.{os.getpid()}"
                shutil.rmtree(staging, ignore_errors=True)
                _safe_extract(Path(args.archive), staging)
                try:
                    _build(python, staging, args.offline)
                except _Failure:
                    if not args.keep_failed:
                        shutil.rmtree(staging, ignore_errors=True)
                    raise
                (staging / READY_MARKER).write_text("")
                os.replace(staging, source)
                built = True
            os.utime(source)
            _write_atomic(_site_packages(python) / PTH_NAME, str(source / "src") + "\n")
            deps = _ensure_deps(python, workdir / "venv", args.requirement or [], args.offline)
            check = _run(
                [str(python), "-c", "import fastarm, os; print(os.path.realpath(fastarm.__file__))"]
            )
            imported = check.stdout.strip().splitlines()[-1] if check.stdout.strip() else ""
            if check.returncode != 0 or not imported.startswith(os.path.realpath(source)):
                raise _Failure(
                    EXIT_IMPORT,
                    f"the venv does not import the uploaded source (expected under {source}):",
                    check.stdout,
                )
            _prune_sources(sources, source)
    except _Failure as exc:
        return _fail(exc.code, exc.message, exc.output)
    print(
        json.dumps(
            {
                "python": str(python),
                "source": str(source),
                "venv_created": venv_created,
                "built": built,
                "deps": deps,
            }
        )
    )
    return 0


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_group(
    pgid: int, grace: float = 5.0, child: Optional[subprocess.Popen[bytes]] = None
) -> None:
    """SIGTERM the group, then SIGKILL what is left after ``grace`` seconds.  ``child`` (our own
    child leading the group) is reaped while waiting: a zombie still counts as a group member."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if child is not None:
                child.poll()
            if not _alive(pgid):
                return
            time.sleep(0.1)


def run(args: argparse.Namespace) -> int:
    cmd = list(args.command)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    stopping = {"signal": 0}
    group = {"pgid": 0}

    def forward(signum: int, _frame: object) -> None:
        stopping["signal"] = signum
        if group["pgid"]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group["pgid"], signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, forward)
    # The benchmark gets its own session and process group (pgid = its pid), recorded in the pid
    # file, so that the whole tree (benchmark + worker processes) can be stopped from outside while
    # this launcher survives to report how it ended.
    child = subprocess.Popen(cmd, start_new_session=True)
    group["pgid"] = child.pid
    _write_atomic(Path(args.pidfile), f"{child.pid}\n")
    try:
        code = child.wait(timeout=args.timeout if args.timeout and args.timeout > 0 else None)
    except subprocess.TimeoutExpired:
        _stop_group(child.pid, child=child)
        child.wait()
        return _fail(EXIT_TIMEOUT, f"remote benchmark stopped after the {args.timeout:g} s timeout")
    _stop_group(child.pid, grace=2.0)  # workers the benchmark left behind
    if stopping["signal"]:
        return 128 + stopping["signal"]
    return 128 - code if code < 0 else code


def cleanup(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir)
    stopped = False
    for pidfile in sorted(run_dir.glob("*.pid")):
        with contextlib.suppress(ValueError, OSError):
            pgid = int(pidfile.read_text().strip())
            if pgid > 1 and pgid != os.getpgid(0) and _alive(pgid):
                _stop_group(pgid)
                stopped = True
    if not args.keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    print(json.dumps({"stopped": stopped, "removed": not args.keep}))
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="fastarm-remote")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--workdir", required=True)
    p.add_argument("--archive", required=True)
    p.add_argument("--source-id", required=True)
    p.add_argument("--requirement", action="append")
    p.add_argument("--offline", action="store_true")
    p.add_argument("--keep-failed", action="store_true")
    r = sub.add_parser("run")
    r.add_argument("--pidfile", required=True)
    r.add_argument("--timeout", type=float, default=0.0)
    r.add_argument("command", nargs=argparse.REMAINDER)
    c = sub.add_parser("cleanup")
    c.add_argument("--run-dir", required=True)
    c.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    return {"prepare": prepare, "run": run, "cleanup": cleanup}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
