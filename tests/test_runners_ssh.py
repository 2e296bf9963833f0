"""The SSH runner against a real OpenSSH server on loopback (see ``tests/sshd.py``).

The server runs on this machine, so the tests can look at the "remote" side directly (its files and
processes).  Each error path is produced for real: a closed port, an unresolvable ``.invalid``
name, a TCP listener that never speaks SSH, a key the server does not accept, a known_hosts file
that lacks or contradicts the host key, a missing interpreter, a compiler that fails.
"""

from __future__ import annotations

import base64
import io
import json
import shlex
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

import pytest

import sshd
from bench_helpers import TINY, cli, subprocess_env
from conftest import require

REPO = Path(__file__).resolve().parents[1]

pytest.importorskip("fabric", reason="the SSH runner needs fabric (pip install 'fastarm[vm]')")

import paramiko  # noqa: E402 - after the importorskip: a dependency of fabric

from fastarm.bench.runners import RunnerError  # noqa: E402
from fastarm.bench.runners import ssh as ssh_runner  # noqa: E402
from fastarm.bench.runners._ssh_hostkeys import fingerprint  # noqa: E402

# A stand-in for `python -m fastarm.bench run --json OUT ARGS` that records its arguments: it lets
# the transport tests run without timing anything.  The real command runs end to end further down.
RECORD_ARGS = (
    "import json, platform, sys; "
    "json.dump({'argv': sys.argv[2:], 'machine': platform.machine(), 'python': sys.executable}, "
    "open(sys.argv[1], 'w'))"
)


class StubRunner(ssh_runner.SSHRunner):
    """The real runner with the benchmark command swapped for ``self.stub`` (a ``-c`` body)."""

    stub = RECORD_ARGS

    def bench_argv(self, python: str, out: str, run_args: Sequence[str]) -> list[str]:
        return [python, "-c", self.stub, out, *run_args]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sshd.SshServer]:
    require("ssh", sshd.sshd_available(), "needs /usr/sbin/sshd and ssh-keygen (openssh-server)")
    srv = sshd.start_sshd(tmp_path_factory.mktemp("sshd"))
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def remote_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One remote cache directory for the module, so the venv and build are reused between tests."""
    return tmp_path_factory.mktemp("remote") / "cache"


def make_runner(
    server: sshd.SshServer, workdir: Path, cls: type[ssh_runner.SSHRunner] = StubRunner, **kw: Any
) -> Any:
    options: dict[str, Any] = {
        "ssh_config": str(server.ssh_config),
        "python": sys.executable,
        "workdir": str(workdir),
        "source": REPO,
        "connect_timeout": 5.0,
        "timeout": 600.0,
        "stream": io.StringIO(),
    }
    options.update(kw)
    host = options.pop("host", server.alias)
    return cls(host, **options)


# -- pieces that need no server ----------------------------------------------------------------


def test_quote_command_keeps_hostile_words_literal() -> None:
    hostile = ["python3", "-k", "x; touch /tmp/pwned", "$(reboot)", "a'b", "`id`"]
    line = ssh_runner.quote_command(hostile, {"CC": "gcc; rm -rf /"}, cwd="/tmp/dir with space;ls")
    prefix = "cd '/tmp/dir with space;ls' && "
    assert line.startswith(prefix)
    assert shlex.split(line[len(prefix) :]) == ["env", "CC=gcc; rm -rf /", *hostile]


def test_remote_env_must_be_name_value() -> None:
    assert ssh_runner._parse_env(["CC=clang", "X_1=a=b"]) == {"CC": "clang", "X_1": "a=b"}
    for bad in ("CC", "1X=a", "A B=c", "X;Y=1"):
        with pytest.raises(RunnerError, match="NAME=VALUE"):
            ssh_runner._parse_env([bad])


def test_add_arguments_and_create(tmp_path: Path) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", action="store_true")  # as another runner may already define it
    ssh_runner.add_arguments(parser)
    args = parser.parse_args(
        [
            "--vm",
            "pi@rpi5:2222",
            "--python",
            "python3.12",
            "--keep",
            "--timeout",
            "90",
            "--accept-new-host-key",
            "--remote-env",
            "CC=clang",
        ]
    )
    runner = ssh_runner.create(args)
    assert (runner.host, runner.python, runner.keep, runner.timeout) == (
        "pi@rpi5:2222",
        "python3.12",
        True,
        90.0,
    )
    assert runner.connect_options.accept_new_host_key and runner.remote_env == {"CC": "clang"}
    with pytest.raises(RunnerError, match="--vm"):
        ssh_runner.create(parser.parse_args([]))


def test_fingerprint_matches_ssh_keygen(tmp_path: Path) -> None:
    import paramiko

    require("ssh", sshd.sshd_available(), "needs ssh-keygen (openssh-client)")
    key = sshd.keygen(tmp_path / "k")
    printed = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(key) + ".pub"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[1]
    assert fingerprint(paramiko.Ed25519Key.from_private_key_file(str(key))) == printed


def test_default_workdir_is_per_project_under_the_remote_cache() -> None:
    runner = ssh_runner.SSHRunner("h")
    probe = {"home": "/home/u", "cache": ""}
    assert runner._resolve_workdir(probe, "abc123") == "/home/u/.cache/fastarm-bench/abc123"
    probe["cache"] = "/var/cache/u"
    assert runner._resolve_workdir(probe, "abc123") == "/var/cache/u/fastarm-bench/abc123"
    runner.workdir = "~/bench"
    assert runner._resolve_workdir(probe, "x") == "/home/u/bench"
    runner.workdir = "rel/dir"
    assert runner._resolve_workdir(probe, "x") == "/home/u/rel/dir"


# -- end to end over real SSH ------------------------------------------------------------------


def test_flow_runs_remotely_and_returns_runner_facts(
    server: sshd.SshServer, remote_workdir: Path, tmp_path: Path
) -> None:
    runner = make_runner(server, remote_workdir)
    out = tmp_path / "out" / "result.json"
    facts = runner.execute(["-k", "dot and float32"], out)
    result = json.loads(out.read_text())
    assert result["argv"] == ["-k", "dot and float32"]
    # the command ran in the remote venv, which imports the uploaded source
    assert result["python"].startswith(str(remote_workdir / "venv"))
    assert facts["name"] == "ssh"
    assert facts["host"] == server.alias  # the alias as given ...
    assert (facts["hostname"], facts["port"], facts["user"]) == (
        "127.0.0.1",
        server.port,
        server.user,
    )
    assert facts["remote_python_version"] == ".".join(map(str, sys.version_info[:3]))
    host_pub = (server.host_key.parent / "host_key.pub").read_text().split()[1]
    assert facts["host_key"] == fingerprint(paramiko.Ed25519Key(data=base64.b64decode(host_pub)))
    assert len(facts["source"]["sha256"]) == 64
    # the run directory is gone, the cache (venv, built source) stays for the next run
    assert not list((remote_workdir / "runs").iterdir())
    assert (remote_workdir / "venv" / "bin" / "python").exists()

    again = runner.execute([], tmp_path / "again.json")
    assert again["prepare"]["venv_created"] is False and again["prepare"]["built"] is False
    assert again["source"]["sha256"] == facts["source"]["sha256"]


def test_hostile_values_are_never_run_by_the_remote_shell(
    server: sshd.SshServer, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    hostile_dir = tmp_path / f"work; touch {marker}"
    runner = make_runner(server, hostile_dir, remote_env={"FASTARM_X": f"1; touch {marker}"})
    out = tmp_path / "r.json"
    runner.execute(["-k", f"x; touch {marker}", f"$(touch {marker})"], out)
    assert not marker.exists()
    assert hostile_dir.is_dir()  # the odd directory name was used literally
    assert json.loads(out.read_text())["argv"] == ["-k", f"x; touch {marker}", f"$(touch {marker})"]


def test_remote_failure_shows_remote_stderr(
    server: sshd.SshServer, remote_workdir: Path, tmp_path: Path
) -> None:
    runner = make_runner(server, remote_workdir)
    runner.stub = "import sys; sys.stderr.write('numpy exploded: marker-7f3a\\n'); sys.exit(3)"
    with pytest.raises(RunnerError) as info:
        runner.execute([], tmp_path / "r.json")
    assert "exit 3" in str(info.value) and "numpy exploded: marker-7f3a" in str(info.value)
    assert not (tmp_path / "r.json").exists()
    assert not list((remote_workdir / "runs").iterdir())


def test_remote_timeout_stops_the_run(
    server: sshd.SshServer, remote_workdir: Path, tmp_path: Path
) -> None:
    runner = make_runner(server, remote_workdir, timeout=3.0)
    runner.stub = "import time; time.sleep(120)"
    started = time.monotonic()
    with pytest.raises(RunnerError, match="exceeded --timeout 3 s"):
        runner.execute([], tmp_path / "r.json")
    assert time.monotonic() - started < 100  # it did not wait for the sleep to end
    assert not list((remote_workdir / "runs").iterdir())


def test_keep_leaves_the_run_directory(
    server: sshd.SshServer, remote_workdir: Path, tmp_path: Path
) -> None:
    runner = make_runner(server, remote_workdir, keep=True)
    runner.execute([], tmp_path / "r.json")
    kept = list((remote_workdir / "runs").iterdir())
    assert len(kept) == 1 and (kept[0] / "result.json").is_file()
    for path in kept:
        subprocess.run(["rm", "-rf", str(path)], check=True)


INTERRUPT_SCRIPT = textwrap.dedent(
    """
    import signal, sys
    from pathlib import Path
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal
    sys.path.insert(0, {tests!r})
    from test_runners_ssh import StubRunner
    runner = StubRunner({alias!r}, ssh_config={config!r}, python=sys.executable,
                        workdir={workdir!r}, source=Path({repo!r}), connect_timeout=5.0)
    # the remote "benchmark" starts a worker process and both sleep: the whole group must stop
    runner.stub = ("import subprocess, sys, time; "
                   "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)']); "
                   "time.sleep(300)")
    runner.execute([], Path({out!r}))
    """
)


def test_ctrl_c_stops_the_remote_process_group_and_cleans_up(
    server: sshd.SshServer, remote_workdir: Path, tmp_path: Path
) -> None:
    script = INTERRUPT_SCRIPT.format(
        tests=str(REPO / "tests"),
        alias=server.alias,
        config=str(server.ssh_config),
        workdir=str(remote_workdir),
        repo=str(REPO),
        out=str(tmp_path / "r.json"),
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(REPO),
        env=subprocess_env(),
    )
    pidfiles: list[Path] = []
    deadline = time.monotonic() + 120
    while not pidfiles and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        pidfiles = list((remote_workdir / "runs").glob("*/run.pid"))
    assert pidfiles, f"the remote run never started: {proc.stderr.read() if proc.stderr else ''}"
    time.sleep(1.0)  # let the remote worker start too
    pgid = int(pidfiles[0].read_text())
    members = _group_members(pgid)
    assert len(members) >= 2, members  # launcher + benchmark (+ its worker)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err, err
    assert "interrupted: stopping the remote benchmark" in err
    assert _group_members(pgid) == []
    assert not pidfiles[0].parent.exists()
    assert not (tmp_path / "r.json").exists()


def _group_members(pgid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


# -- connection errors, each for real -----------------------------------------------------------


def _error(runner: Any, tmp_path: Path) -> str:
    with pytest.raises(RunnerError) as info:
        runner.execute([], tmp_path / "never.json")
    assert not (tmp_path / "never.json").exists()
    return str(info.value)


def test_connection_refused(server: sshd.SshServer, tmp_path: Path) -> None:
    closed = sshd.free_port()  # nothing listens there any more
    runner = make_runner(server, tmp_path / "w", host=f"127.0.0.1:{closed}")
    message = _error(runner, tmp_path)
    assert "connection refused" in message and str(closed) in message


def test_dns_failure(server: sshd.SshServer, tmp_path: Path) -> None:
    runner = make_runner(server, tmp_path / "w", host="fastarm-no-such-host.invalid")
    message = _error(runner, tmp_path)
    assert "cannot resolve host name 'fastarm-no-such-host.invalid'" in message


def test_timeout_when_the_port_never_speaks_ssh(server: sshd.SshServer, tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:  # accept and then say nothing, like a blackholed service
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        port = listener.getsockname()[1]
        runner = make_runner(server, tmp_path / "w", host=f"127.0.0.1:{port}", connect_timeout=1.5)
        started = time.monotonic()
        message = _error(runner, tmp_path)
        assert "timed out connecting" in message and "1.5 s" in message
        assert time.monotonic() - started < 30
        assert accepted  # the TCP connection was made; the SSH greeting never came
    finally:
        stop.set()
        thread.join()
        for sock in accepted:
            sock.close()
        listener.close()


def test_authentication_failure(server: sshd.SshServer, tmp_path: Path) -> None:
    wrong = sshd.keygen(tmp_path / "wrong_key")
    empty_config = tmp_path / "ssh_config"
    empty_config.write_text("")
    runner = make_runner(
        server,
        tmp_path / "w",
        host=f"{server.user}@127.0.0.1:{server.port}",
        ssh_config=str(empty_config),
        known_hosts=str(server.known_hosts),
        identity=str(wrong),
    )
    message = _error(runner, tmp_path)
    assert "authentication failed" in message and str(wrong) in message


def test_unknown_host_key_is_refused_until_accepted(
    server: sshd.SshServer, remote_workdir: Path, tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    host_fp = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(server.host_key) + ".pub"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[1]
    refused = make_runner(server, tmp_path / "w", known_hosts=str(known))
    message = _error(refused, tmp_path)
    assert "not in known_hosts" in message and host_fp in message
    assert "--accept-new-host-key" in message
    assert known.read_text() == ""  # nothing was added silently
    assert not (tmp_path / "w").exists()  # refused before anything ran remotely

    accepting = make_runner(
        server, remote_workdir, known_hosts=str(known), accept_new_host_key=True
    )
    accepting.execute([], tmp_path / "r.json")
    entry = known.read_text().split()
    assert entry[0] == server.host_entry and entry[1] == "ssh-ed25519"
    # from now on the host is known: no flag needed
    make_runner(server, remote_workdir, known_hosts=str(known)).execute([], tmp_path / "r2.json")


def test_changed_host_key_is_refused_even_with_the_accept_flag(
    server: sshd.SshServer, tmp_path: Path
) -> None:
    impostor = sshd.keygen(tmp_path / "other_host_key")
    known = tmp_path / "known_hosts"
    known.write_text(f"{server.host_entry} {sshd.public_key_blob(Path(str(impostor) + '.pub'))}\n")
    before = known.read_text()
    for accept in (False, True):
        runner = make_runner(
            server, tmp_path / "w", known_hosts=str(known), accept_new_host_key=accept
        )
        message = _error(runner, tmp_path)
        assert "HOST IDENTIFICATION HAS CHANGED" in message
        assert "never overrides a changed key" in message and "ssh-keygen -R" in message
    assert known.read_text() == before
    assert not (tmp_path / "w").exists()  # refused before anything ran remotely


def test_remote_python_missing(server: sshd.SshServer, tmp_path: Path) -> None:
    runner = make_runner(server, tmp_path / "w", python="/nonexistent/python3")
    message = _error(runner, tmp_path)
    assert "no Python interpreter '/nonexistent/python3'" in message and "--python" in message


def test_remote_python_too_old(server: sshd.SshServer, tmp_path: Path) -> None:
    # A stand-in for an old interpreter (no Python < 3.9 exists on this machine): the real Python,
    # reporting version 3.6.9 to the code it is asked to run.
    fake = tmp_path / "python3.6"
    pretend = "import sys; sys.version_info = (3, 6, 9, 'final', 0); "
    pretend += "code = sys.argv[2]; sys.argv = ['-c']; exec(code)"
    fake.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -c "{pretend}" "$@"\n')
    fake.chmod(0o755)
    runner = make_runner(server, tmp_path / "w", python=str(fake))
    message = _error(runner, tmp_path)
    assert "remote Python 3.6.9" in message and "too old" in message and ">= 3.9" in message


def test_remote_build_failure_shows_the_compiler_error(
    server: sshd.SshServer, tmp_path: Path
) -> None:
    src = _tiny_extension_tree(tmp_path / "tree")
    runner = make_runner(server, tmp_path / "w", source=src, remote_env={"CC": "false"})
    message = _error(runner, tmp_path)
    assert "remote build failed" in message
    assert "false" in message and "error" in message.lower()
    # and with a working compiler the same tree builds and runs
    ok = make_runner(server, tmp_path / "w", source=src)
    assert ok.execute([], tmp_path / "ok.json")["prepare"]["built"] is True


def _tiny_extension_tree(root: Path) -> Path:
    """A minimal project laid out like fastarm, with one C extension to compile."""
    pkg = root / "src" / "fastarm"
    pkg.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "fastarm"\nversion = "0.0.0"\n'
    )
    (root / "setup.py").write_text(
        "from setuptools import Extension, setup\n"
        "setup(ext_modules=[Extension('fastarm._probe', ['src/fastarm/_probe.c'])],"
        " package_dir={'': 'src'}, packages=['fastarm'])\n"
    )
    (pkg / "__init__.py").write_text("")
    (pkg / "_probe.c").write_text(
        "#include <Python.h>\n"
        'static struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "_probe", NULL, -1, NULL};\n'
        "PyMODINIT_FUNC PyInit__probe(void) { return PyModule_Create(&m); }\n"
    )
    return root


# -- the source archive and known_hosts bookkeeping ------------------------------------------------


def test_archive_holds_what_git_knows_and_is_deterministic(tmp_path: Path) -> None:
    from fastarm.bench.runners import _ssh_package as package

    root = _tiny_extension_tree(tmp_path / "repo")
    (root / ".gitignore").write_text("ignored.txt\n")
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
    (root / "setup.py").write_text((root / "setup.py").read_text() + "# edited\n")
    (root / "untracked.py").write_text("x = 1\n")
    (root / "ignored.txt").write_text("secret\n")
    (root / "src" / "fastarm" / "_probe.cpython-311-x86_64-linux-gnu.so").write_bytes(b"ELF")
    first = package.build_archive(root, tmp_path / "a")
    second = package.build_archive(root, tmp_path / "b")
    assert first.sha256 == second.sha256  # same tree, same bytes
    assert first.git_dirty is True and first.git_commit and len(first.git_commit.strip()) == 40
    import tarfile

    with tarfile.open(first.path) as tar:
        names = tar.getnames()
        edited = tar.extractfile("setup.py").read().decode()  # type: ignore[union-attr]
    assert "untracked.py" in names and "ignored.txt" not in names
    assert not any(n.endswith(".so") for n in names)
    assert edited.endswith("# edited\n")  # the working tree, not the last commit
    (root / "untracked.py").write_text("x = 2\n")
    assert package.build_archive(root, tmp_path / "c").sha256 != first.sha256


def test_accepted_key_is_appended_hashed_when_the_config_says_so(tmp_path: Path) -> None:
    from fastarm.bench.runners._ssh_hostkeys import KnownHosts

    key = paramiko.Ed25519Key.from_private_key_file(str(sshd.keygen(tmp_path / "hk")))
    known = tmp_path / "sub" / "known_hosts"
    hosts = KnownHosts.from_ssh_config(
        {"userknownhostsfile": str(known), "hashknownhosts": "yes"}, None
    )
    hosts.append("[10.0.0.7]:2222", key)
    text = known.read_text()
    assert text.startswith("|1|") and "10.0.0.7" not in text
    assert oct(known.stat().st_mode & 0o777) == "0o600"
    loaded = paramiko.HostKeys(str(known))
    assert loaded.lookup("[10.0.0.7]:2222")["ssh-ed25519"] == key


def test_known_hosts_dev_null_falls_back_to_a_real_file() -> None:
    from fastarm.bench.runners._ssh_hostkeys import KnownHosts

    # Lima and friends write `UserKnownHostsFile /dev/null`: an accepted key must still be kept
    hosts = KnownHosts.from_ssh_config({"userknownhostsfile": "/dev/null"}, None)
    assert hosts.user_file == Path("~/.ssh/known_hosts").expanduser()
    hosts = KnownHosts.from_ssh_config({"userknownhostsfile": "/dev/null ~/.ssh/kh2"}, None)
    assert hosts.user_file == Path("~/.ssh/kh2").expanduser()


# -- the real command, through every entry point ---------------------------------------------------


def _vm_options(server: sshd.SshServer, workdir: Path) -> list[str]:
    return [
        "--vm",
        server.alias,
        "--ssh-config",
        str(server.ssh_config),
        "--python",
        sys.executable,
        "--workdir",
        str(workdir),
    ]


def _stored(root: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((root / "results").glob("*/*-ssh.json"))]


def test_bench_vm_end_to_end(server: sshd.SshServer, remote_workdir: Path, tmp_path: Path) -> None:
    root = tmp_path / "bench"
    proc = cli("run", *TINY, *_vm_options(server, remote_workdir), "--root", root, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (stored,) = _stored(root)
    env = stored["environment"]
    # stored under the remote's key (the remote is this machine here, so it is also ours)
    here = json.loads(cli("env", "--json").stdout)
    assert env["key"] == here["key"]
    assert (root / "results" / env["key"]).is_dir()
    assert stored["runner"]["name"] == "ssh" and stored["runner"]["host"] == server.alias
    assert stored["runner"]["port"] == server.port
    assert {c["impl"] for c in stored["cases"]} >= {"numpy", "fastarm"}
    assert env["key"] in proc.stdout  # the report names the environment


def test_ctrl_c_through_the_cli_exits_130_and_stores_nothing(
    server: sshd.SshServer, remote_workdir: Path, tmp_path: Path
) -> None:
    root = tmp_path / "bench"
    runs = remote_workdir / "runs"
    before = set(runs.glob("*")) if runs.exists() else set()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fastarm.bench",
            "run",
            "--profile",
            "full",
            *_vm_options(server, remote_workdir),
            "--root",
            str(root),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
    pidfile = None
    deadline = time.monotonic() + 300
    while pidfile is None and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        fresh = (
            [p for p in runs.glob("*/run.pid") if p.parent not in before] if runs.exists() else []
        )
        pidfile = fresh[0] if fresh else None
    assert pidfile is not None, proc.communicate(timeout=60)
    time.sleep(2.0)  # the full profile runs for minutes: it is mid-run now
    pgid = int(pidfile.read_text())
    assert _group_members(pgid)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=90)
    assert proc.returncode == 130, err[-3000:]
    assert _group_members(pgid) == []
    assert not pidfile.parent.exists()
    assert not list(root.glob("results/*/*.json"))


def test_invoke_bench_vm(server: sshd.SshServer, remote_workdir: Path, tmp_path: Path) -> None:
    root = tmp_path / "bench"
    extra = shlex.join(
        [*_vm_options(server, remote_workdir)[2:], "--samples", "3", "--min-sample-ms", "0.2"]
    )
    extra += f" --root {shlex.quote(str(root))}"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "invoke",
            "bench",
            "--vm",
            server.alias,
            "-k",
            TINY[1],
            "--extra",
            extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (stored,) = _stored(root)
    assert stored["runner"]["host"] == server.alias


def test_nox_bench_vm(server: sshd.SshServer, remote_workdir: Path, tmp_path: Path) -> None:
    root = tmp_path / "bench"
    args = [*_vm_options(server, remote_workdir)[1:], *TINY, "--root", str(root)]
    proc = subprocess.run(
        [sys.executable, "-m", "nox", "-s", "bench-vm", "--", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (stored,) = _stored(root)
    assert stored["runner"]["host"] == server.alias


# -- an aarch64 host: sshd inside the emulated arm64 base image ------------------------------------


@pytest.fixture(scope="module")
def arm64_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sshd.SshServer]:
    import secrets

    from fastarm.bench import dockerbase

    require("ssh", sshd.sshd_available(), "needs ssh-keygen (openssh-client)")
    try:
        import docker
    except ImportError:
        require("docker", False, "the docker SDK is not installed: pip install 'fastarm[docker]'")
        raise
    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:  # DockerException, connection errors
        require("docker", False, f"no Docker engine reachable: {exc}")
        raise
    problem = dockerbase.binfmt_problem("arm64")
    require("emulation", problem is None, problem or "")
    image = dockerbase.base_tag("arm64")
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        require("arm64-image", False, f"{image} missing: invoke docker.base --arch arm64")
    running = sshd.start_container_sshd(
        client,
        image,
        tmp_path_factory.mktemp("arm64-sshd"),
        name=f"ssh-test-arm64-sshd-{secrets.token_hex(4)}",
        alias="fastarm-arm64",
    )
    try:
        yield running.server
    finally:
        running.stop()


def test_bench_vm_on_an_emulated_aarch64_host(arm64_host: sshd.SshServer, tmp_path: Path) -> None:
    # Under qemu-user everything is ~20x slower: one group, few samples, and no network (--offline:
    # the image's Debian NumPy and build tools are all the run needs).  Default python3 and workdir.
    root = tmp_path / "bench"
    proc = cli(
        "run", "-k", "dot/float32/1536/*", "--samples", "3", "--min-sample-ms", "0.2",
        "--vm", arm64_host.alias, "--ssh-config", arm64_host.ssh_config, "--offline",
        "--root", root, timeout=1800,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    (stored,) = _stored(root)
    env = stored["environment"]
    assert env["arch"] == "aarch64" and env["kind"] == "emulated"
    assert "emulated" in [layer["type"] for layer in env["layers"]]
    assert env["backend"].startswith("neon")
    assert stored["runner"]["host"] == "fastarm-arm64"
    assert stored["runner"]["remote_machine"] == "aarch64"
    assert stored["runner"]["workdir"].startswith("/root/.cache/fastarm-bench/")
    assert (root / "results" / env["key"]).is_dir() and "aarch64" in env["key"]
    assert "EMULATED" in proc.stdout  # the report warns that these numbers are not speed
