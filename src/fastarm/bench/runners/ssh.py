"""The SSH transport: run the benchmark on a VM or remote machine, bring the labelled result home.

Flow of :meth:`SSHRunner.execute`:

1. package the working tree (a deterministic archive of what git knows; see ``_ssh_package``);
2. connect with Fabric (``~/.ssh/config`` aliases, users, keys, ProxyJump) under a strict
   host-key policy (``_ssh_hostkeys``: unknown hosts only with ``--accept-new-host-key``, changed
   keys never);
3. ask the remote interpreter for its version (missing or < 3.9: a clear error) and home directory;
4. upload the archive (skipped when the remote already has these exact bytes) and the remote helper;
5. ``prepare``: create or reuse a venv in the per-project cache directory, build the extension
   there, install the bench extra's missing requirements unless ``--offline`` (``_ssh_remote``);
6. run ``python -m fastarm.bench run --json <remote tmp> <run_args>`` in its own process group
   with a timeout, streaming its output; Ctrl-C stops that group, and the run directory is removed
   (unless ``--keep``);
7. download the JSON and return what only the outside knows (the host alias, resolved address, user,
   remote interpreter, host-key fingerprint, source archive).

Every remote command is built from an argument list with ``shlex.quote``; nothing the user types
reaches the remote shell unquoted.  The remote fingerprint, taken by the harness on the remote,
decides the environment key.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional, Sequence

from . import RunnerError

NAME = "ssh"
MIN_PYTHON = (3, 9)
DEFAULT_TIMEOUT = 3600.0
DEFAULT_CONNECT_TIMEOUT = 15.0
HELPER = Path(__file__).with_name("_ssh_remote.py")
HELPER_EXIT = {10: "venv", 11: "setuptools", 12: "build", 13: "import", 124: "timeout"}
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Runs on any Python (even 2.x), so an old interpreter is reported as too old instead of crashing.
PROBE = (
    "import sys, os, json, platform; v = sys.version_info; "
    "print(json.dumps({'version': [v[0], v[1], v[2]], 'executable': sys.executable, "
    "'home': os.path.expanduser('~'), 'cache': os.environ.get('XDG_CACHE_HOME', ''), "
    "'machine': platform.machine(), 'system': platform.system()}))"
)


def _add(parser: Any, *flags: str, **kwargs: Any) -> None:
    """Add an option unless another runner already defined it (``--keep``, ``--timeout`` are shared
    with the Docker runner; the meaning is the same)."""
    with contextlib.suppress(argparse.ArgumentError):
        parser.add_argument(*flags, **kwargs)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _add(
        parser,
        "--vm",
        metavar="HOST",
        help="run on HOST over SSH: an ~/.ssh/config alias, host, user@host or user@host:port",
    )
    _add(
        parser,
        "--python",
        dest="remote_python",
        metavar="PATH",
        default="python3",
        help="interpreter on the SSH host (default: python3 on its PATH)",
    )
    _add(
        parser,
        "--workdir",
        dest="remote_workdir",
        metavar="DIR",
        help="remote cache directory for the venv and builds "
        "(default: ~/.cache/fastarm-bench/<project id>)",
    )
    _add(
        parser,
        "--timeout",
        type=float,
        metavar="SECONDS",
        help=f"stop the remote build or run after this long (default {DEFAULT_TIMEOUT:g})",
    )
    _add(
        parser,
        "--connect-timeout",
        type=float,
        default=DEFAULT_CONNECT_TIMEOUT,
        metavar="SECONDS",
        help="SSH connect and handshake timeout (default %(default)g)",
    )
    _add(
        parser,
        "--keep",
        action="store_true",
        help="keep the remote run directory (helper, result, logs) for debugging",
    )
    _add(
        parser,
        "--accept-new-host-key",
        action="store_true",
        help="trust an SSH host seen for the first time and add its key to known_hosts "
        "(a changed key is always refused)",
    )
    _add(
        parser,
        "--identity",
        metavar="KEYFILE",
        help="SSH private key to offer (in addition to IdentityFile from the SSH config)",
    )
    _add(
        parser,
        "--ssh-config",
        metavar="FILE",
        help="read this SSH config instead of ~/.ssh/config and /etc/ssh/ssh_config",
    )
    _add(
        parser,
        "--known-hosts",
        metavar="FILE",
        help="known_hosts file to check and extend (default: UserKnownHostsFile or "
        "~/.ssh/known_hosts)",
    )
    _add(
        parser,
        "--offline",
        action="store_true",
        help="never let pip reach an index on the SSH host: build with what is installed",
    )
    _add(
        parser,
        "--remote-env",
        action="append",
        metavar="NAME=VALUE",
        default=None,
        help="environment variable for the remote build and run (repeatable), e.g. CC=clang",
    )
    _add(
        parser,
        "--source",
        metavar="DIR",
        help="fastarm checkout to upload (default: the one containing the working directory)",
    )


def _parse_env(items: Optional[Sequence[str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not ENV_NAME.match(name):
            raise RunnerError(
                f"--remote-env expects NAME=VALUE with a valid variable name, got {item!r}"
            )
        env[name] = value
    return env


def quote_command(
    argv: Sequence[str], env: Optional[dict[str, str]] = None, cwd: Optional[str] = None
) -> str:
    """A POSIX shell command line for ``argv`` with every word quoted."""
    words = [shlex.quote(str(a)) for a in argv]
    if env:
        words = ["env", *(shlex.quote(f"{k}={v}") for k, v in env.items()), *words]
    line = " ".join(words)
    return f"cd {shlex.quote(cwd)} && {line}" if cwd else line


def tail(text: str, lines: int = 25) -> str:
    kept = [ln.rstrip() for ln in text.replace("\r\n", "\n").splitlines() if ln.strip()]
    return "\n".join("  | " + ln for ln in kept[-lines:])


class SSHRunner:
    name = NAME

    def __init__(
        self,
        host: str,
        *,
        python: str = "python3",
        workdir: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        keep: bool = False,
        accept_new_host_key: bool = False,
        identity: Optional[str] = None,
        ssh_config: Optional[str] = None,
        known_hosts: Optional[str] = None,
        offline: bool = False,
        remote_env: Optional[dict[str, str]] = None,
        source: Optional[Path] = None,
        stream: Any = None,
    ) -> None:
        from ._ssh_connect import ConnectOptions

        self.host = host
        self.python = python
        self.workdir = workdir
        self.timeout = timeout
        self.keep = keep
        self.offline = offline
        self.remote_env = dict(remote_env or {})
        self.source = source
        self.stream = stream if stream is not None else sys.stderr
        self.connect_options = ConnectOptions(
            host=host,
            ssh_config=ssh_config,
            identity=identity,
            known_hosts=known_hosts,
            accept_new_host_key=accept_new_host_key,
            connect_timeout=connect_timeout,
        )
        self._step = "connecting"

    # -- small helpers -------------------------------------------------------------------------
    def note(self, message: str) -> None:
        print(f"fastarm[ssh {self.host}]: {message}", file=self.stream, flush=True)

    def bench_argv(self, python: str, out: str, run_args: Sequence[str]) -> list[str]:
        """The command every transport moves (see docs/architecture.md)."""
        return [python, "-m", "fastarm.bench", "run", "--json", out, *run_args]

    def _call(
        self,
        conn: Any,
        argv: Sequence[str],
        *,
        timeout: Optional[float] = None,
        stream: bool = False,
        cwd: Optional[str] = None,
        env: bool = False,
    ) -> Any:
        command = quote_command(argv, self.remote_env if env else None, cwd)
        kwargs: dict[str, Any] = {
            "warn": True,
            "in_stream": False,
            "pty": False,
            "timeout": timeout,
        }
        if stream:
            kwargs.update(hide=False, out_stream=self.stream, err_stream=self.stream)
        else:
            kwargs.update(hide=True)
        return conn.run(command, **kwargs)

    def _call_stoppable(
        self,
        conn: Any,
        argv: Sequence[str],
        *,
        python: str,
        helper: str,
        run_dir: str,
        label: str,
        stream: bool = False,
    ) -> Any:
        """Run ``argv`` on the remote under the helper's launcher: in its own process group,
        recorded in ``<run_dir>/<label>.pid``, stopped after ``--timeout``.  Waits in this thread
        so Ctrl-C lands here; the group is then stopped over a second channel before the interrupt
        propagates (a plain ``conn.run`` would wait for the remote command to end by itself)."""
        launcher = [python, helper, "run", "--pidfile", f"{run_dir}/{label}.pid",
                    "--timeout", f"{self.timeout:g}", "--", *argv]  # fmt: skip
        command = quote_command(launcher, self.remote_env, run_dir)
        kwargs: dict[str, Any] = {"warn": True, "in_stream": False, "pty": False}
        if stream:
            kwargs.update(hide=False, out_stream=self.stream, err_stream=self.stream)
        else:
            kwargs.update(hide=True)
        promise = conn.run(command, asynchronous=True, **kwargs)
        backstop = time.monotonic() + self.timeout + 60 if self.timeout > 0 else None
        try:
            while not promise.runner.process_is_finished:
                if backstop is not None and time.monotonic() > backstop:
                    # the launcher should have stopped it; the connection may be wedged
                    self._stop_remote(conn, python, helper, run_dir)
                    promise.runner.channel.close()
                    raise RunnerError(
                        f"no answer from {self.host} within --timeout {self.timeout:g} s + 60 s"
                    )
                time.sleep(0.1)
        except KeyboardInterrupt:
            self.note("interrupted: stopping the remote benchmark and cleaning up")
            self._stop_remote(conn, python, helper, run_dir)
            deadline = time.monotonic() + 15
            while not promise.runner.process_is_finished and time.monotonic() < deadline:
                time.sleep(0.1)
            if not promise.runner.process_is_finished:
                promise.runner.channel.close()
            with contextlib.suppress(Exception):
                promise.join()
            raise
        return promise.join()

    def _stop_remote(self, conn: Any, python: str, helper: str, run_dir: str) -> None:
        """Stop the process groups of a run (keeping its directory for the final cleanup)."""
        try:
            self._call(
                conn, [python, helper, "cleanup", "--run-dir", run_dir, "--keep"], timeout=60
            )
        except Exception as exc:  # reported, never raised over the interrupt being handled
            self.note(f"could not stop the remote process: {exc}")

    # -- steps -----------------------------------------------------------------------------------
    def _probe(self, conn: Any) -> dict[str, Any]:
        import json

        self._step = "checking the remote Python"
        res = self._call(conn, [self.python, "-c", PROBE], timeout=120)
        if res.exited == 127 or ("not found" in res.stderr and res.exited != 0):
            raise RunnerError(
                f"no Python interpreter {self.python!r} on {self.host} (remote shell said: "
                f"{res.stderr.strip() or res.stdout.strip()}); install python3 there or pass "
                "--python /path/to/python3"
            )
        if res.exited != 0:
            raise RunnerError(
                f"remote interpreter {self.python!r} on {self.host} failed (exit {res.exited}):\n"
                + tail(res.stderr + res.stdout)
            )
        try:
            probe = json.loads(res.stdout.strip().splitlines()[-1])
            version = tuple(int(v) for v in probe["version"])
        except (ValueError, KeyError, IndexError, TypeError):
            raise RunnerError(
                f"{self.python!r} on {self.host} does not behave like Python (it printed "
                f"{res.stdout.strip()[:200]!r})"
            ) from None
        if version < MIN_PYTHON:
            raise RunnerError(
                f"remote Python {'.'.join(map(str, version))} at {probe.get('executable')} on "
                f"{self.host} is too old: fastarm needs Python >= "
                f"{'.'.join(map(str, MIN_PYTHON))}; pass --python with a newer interpreter"
            )
        probe["version_str"] = ".".join(map(str, version))
        return probe

    def _resolve_workdir(self, probe: dict[str, Any], project: str) -> str:
        home = str(probe.get("home") or "")
        if self.workdir:
            path = self.workdir
            if path == "~" or path.startswith("~/"):
                path = home + path[1:]
        else:
            cache = str(probe.get("cache") or "") or f"{home}/.cache"
            path = f"{cache}/fastarm-bench/{project}"
        if not path.startswith("/"):
            path = f"{home}/{path}"  # relative paths are relative to the remote home, as with scp
        return path.rstrip("/") or "/"

    def _upload(self, conn: Any, local: Path, remote: str) -> None:
        tmp = f"{remote}.part-{secrets.token_hex(4)}"
        conn.put(str(local), remote=tmp)
        sftp = conn.sftp()
        sftp.posix_rename(tmp, remote)

    def _exists(self, conn: Any, remote: str) -> bool:
        try:
            conn.sftp().stat(remote)
        except OSError:
            return False
        return True

    def _prepare(
        self,
        conn: Any,
        probe: dict[str, Any],
        workdir: str,
        helper: str,
        run_dir: str,
        archive_remote: str,
        archive: Any,
        requirements: Sequence[str],
    ) -> dict[str, Any]:
        import json

        self._step = "preparing the remote venv and build"
        argv = [
            probe["executable"],
            helper,
            "prepare",
            "--workdir",
            workdir,
            "--archive",
            archive_remote,
            "--source-id",
            archive.source_id,
        ]
        for req in requirements:
            argv += ["--requirement", req]
        if self.offline:
            argv.append("--offline")
        if self.keep:
            argv.append("--keep-failed")
        started = time.monotonic()
        res = self._call_stoppable(
            conn, argv, python=probe["executable"], helper=helper, run_dir=run_dir, label="prepare"
        )
        if res.exited != 0:
            what = HELPER_EXIT.get(res.exited, "prepare")
            if what == "build":
                headline = "remote build failed"
            elif what == "venv":
                headline = "could not create the remote venv"
            else:
                headline = f"remote preparation failed ({what}, exit {res.exited})"
            raise RunnerError(f"{headline} on {self.host}:\n" + tail(res.stderr + res.stdout))
        try:
            info: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RunnerError(
                f"unexpected answer from the remote helper: {res.stdout[-500:]!r}"
            ) from None
        info["seconds"] = round(time.monotonic() - started, 1)
        return info

    def _cleanup(self, conn: Any, python: str, helper: str, run_dir: str) -> None:
        argv = [python, helper, "cleanup", "--run-dir", run_dir]
        if self.keep:
            argv.append("--keep")
        try:
            res = self._call(conn, argv, timeout=60)
            if res.exited != 0 and not self.keep:  # helper missing (interrupted before upload)
                self._call(conn, ["rm", "-rf", "--", run_dir], timeout=60)
        except Exception as exc:  # cleanup must never hide the original error
            self.note(f"could not clean up {run_dir}: {exc}")
            return
        if self.keep:
            self.note(f"kept the remote run directory {run_dir}")

    # -- the contract ----------------------------------------------------------------------------
    def execute(self, run_args: Sequence[str], out_json: Path) -> dict[str, Any]:
        from ._ssh_connect import open_connection
        from ._ssh_hostkeys import fingerprint
        from ._ssh_package import (
            SourceError,
            bench_requirements,
            build_archive,
            find_source_root,
            project_hash,
        )

        out_json = Path(out_json)
        try:
            root = find_source_root(self.source)
        except SourceError as exc:
            raise RunnerError(str(exc)) from None
        with tempfile.TemporaryDirectory(prefix="fastarm-ssh-") as tmp:
            try:
                archive = build_archive(root, Path(tmp))
            except (SourceError, OSError) as exc:
                raise RunnerError(f"cannot package {root}: {exc}") from None
            self._run_state = None
            conn = open_connection(self.connect_options)
            try:
                return self._execute(
                    conn,
                    root,
                    archive,
                    run_args,
                    out_json,
                    Path(tmp),
                    bench_requirements(root),
                    project_hash(root),
                    fingerprint,
                )
            except RunnerError:
                raise
            except Exception as exc:
                raise RunnerError(
                    f"SSH session with {self.host} failed while {self._step}: "
                    f"{type(exc).__name__}: {exc}"
                ) from None
            finally:
                if self._run_state is not None:
                    run_dir, helper, python = self._run_state
                    self._cleanup(conn, python, helper, run_dir)
                conn.close()

    _run_state: Optional[tuple[str, str, str]] = None

    def _execute(
        self,
        conn: Any,
        root: Path,
        archive: Any,
        run_args: Sequence[str],
        out_json: Path,
        tmp: Path,
        requirements: Sequence[str],
        project: str,
        fingerprint: Any,
    ) -> dict[str, Any]:
        probe = self._probe(conn)
        python = str(probe["executable"])
        workdir = self._resolve_workdir(probe, project)
        run_dir = f"{workdir}/runs/{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}"
        self._step = f"creating {run_dir}"
        res = self._call(conn, ["mkdir", "-p", "--", run_dir, f"{workdir}/archives"], timeout=60)
        if res.exited != 0:
            raise RunnerError(f"cannot create {run_dir} on {self.host}:\n" + tail(res.stderr))
        helper = f"{run_dir}/fastarm_remote.py"
        self._run_state = (run_dir, helper, python)

        self._step = "uploading"
        conn.put(str(HELPER), remote=helper)
        archive_remote = f"{workdir}/archives/{archive.path.name}"
        if self._exists(conn, archive_remote):
            self.note(f"source {archive.source_id} already on the host")
        else:
            self.note(
                f"uploading source {archive.source_id} ({archive.files} files, "
                f"{archive.path.stat().st_size // 1024} KiB) to {workdir}"
            )
            self._upload(conn, archive.path, archive_remote)

        self.note("preparing venv and build (first run for a source may take a while)")
        prepared = self._prepare(
            conn, probe, workdir, helper, run_dir, archive_remote, archive, requirements
        )
        self.note(
            f"venv {'created' if prepared.get('venv_created') else 'reused'}, "
            f"{'built' if prepared.get('built') else 'build reused'}, "
            f"bench deps {prepared.get('deps')} ({prepared['seconds']} s)"
        )

        self._step = "running the benchmark"
        remote_out = f"{run_dir}/result.json"
        venv_python = str(prepared["python"])
        res = self._call_stoppable(
            conn,
            self.bench_argv(venv_python, remote_out, run_args),
            python=python,
            helper=helper,
            run_dir=run_dir,
            label="run",
            stream=True,
        )
        if res.exited == 124:
            raise RunnerError(
                f"the benchmark on {self.host} exceeded --timeout {self.timeout:g} s "
                "and was stopped"
            )
        if res.exited != 0:
            raise RunnerError(
                f"the benchmark failed on {self.host} (exit {res.exited}); "
                "last lines of its output:\n" + tail(res.stderr or res.stdout)
            )

        self._step = "downloading the result"
        out_json.parent.mkdir(parents=True, exist_ok=True)
        local_tmp = tmp / "result.json"
        try:
            conn.get(remote_out, local=str(local_tmp))
        except FileNotFoundError:
            raise RunnerError(
                f"the benchmark on {self.host} exited 0 but wrote no result at {remote_out}:\n"
                + tail(res.stderr or res.stdout)
            ) from None
        part = out_json.with_name(f".{out_json.name}.{os.getpid()}.part")
        part.write_bytes(local_tmp.read_bytes())
        os.replace(part, out_json)

        host_key = conn.transport.get_remote_server_key() if conn.transport else None
        return {
            "name": NAME,
            "host": self.host,
            "hostname": conn.host,
            "port": conn.port,
            "user": conn.user,
            "remote_python": python,
            "remote_python_version": probe["version_str"],
            "remote_machine": probe.get("machine"),
            "workdir": workdir,
            "host_key": fingerprint(host_key) if host_key is not None else None,
            "source": {
                "sha256": archive.sha256,
                "files": archive.files,
                "git_commit": archive.git_commit,
                "git_dirty": archive.git_dirty,
            },
            "prepare": {k: prepared.get(k) for k in ("venv_created", "built", "deps", "seconds")},
        }


def create(args: argparse.Namespace) -> SSHRunner:
    host = getattr(args, "vm", None)
    if not host:
        raise RunnerError("the SSH runner needs --vm HOST")
    timeout = getattr(args, "timeout", None)
    source = getattr(args, "source", None)
    return SSHRunner(
        host,
        python=getattr(args, "remote_python", None) or "python3",
        workdir=getattr(args, "remote_workdir", None),
        timeout=float(timeout) if timeout else DEFAULT_TIMEOUT,
        connect_timeout=float(getattr(args, "connect_timeout", None) or DEFAULT_CONNECT_TIMEOUT),
        keep=bool(getattr(args, "keep", False)),
        accept_new_host_key=bool(getattr(args, "accept_new_host_key", False)),
        identity=getattr(args, "identity", None),
        ssh_config=getattr(args, "ssh_config", None),
        known_hosts=getattr(args, "known_hosts", None),
        offline=bool(getattr(args, "offline", False)),
        remote_env=_parse_env(getattr(args, "remote_env", None)),
        source=Path(source) if source else None,
    )
