"""The Docker runner against the real engine: end-to-end runs (native and emulated arm64), the layer
cache, and every failure the user can meet -- each produced for real."""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Optional

import pytest

from conftest import require
from fastarm.bench import dockerbase
from fastarm.bench.runners import RunnerError

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
# One small group: emulation is ~20x slower than native.
SELECT = "dot/float32/1536/*"


def _docker_module() -> Any:
    try:
        import docker
    except ImportError:
        require("docker", False, "the docker SDK is not installed: pip install 'fastarm[docker]'")
        raise
    return docker


def _runner_module() -> Any:
    _docker_module()
    from fastarm.bench.runners import docker as runner

    return runner


@pytest.fixture(scope="module")
def client() -> Any:
    docker = _docker_module()
    try:
        c = docker.from_env()
        c.ping()
    except Exception as exc:  # DockerException, connection errors
        require("docker", False, f"no Docker engine reachable: {exc}")
        raise
    return c


@pytest.fixture(scope="module")
def amd64_base(client: Any) -> str:
    """The offline amd64 base (what CI builds first); the wrong-arch test needs a local image."""
    docker = _docker_module()
    tag = dockerbase.base_tag("amd64")
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        require("docker", False, f"{tag} missing: invoke docker.base --arch amd64")
    return tag


def _need_arm64(client: Any) -> None:
    docker = _docker_module()
    if dockerbase.host_arch() != "arm64":
        problem = dockerbase.binfmt_problem("arm64")
        require("emulation", problem is None, problem or "")
    try:
        client.images.get(dockerbase.base_tag("arm64"))
    except docker.errors.ImageNotFound:
        require("arm64-image", False, "no arm64 base image: invoke docker.base --arch arm64")


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "fastarm.bench", "run", "--docker", *args]


def _leftovers(client: Any, **labels: str) -> list[Any]:
    filters = {"label": [f"{k}={v}" for k, v in labels.items()]}
    return client.containers.list(all=True, filters=filters)


def _run_cli(args: list[str], timeout: float = 1800, **env: str) -> tuple[int, str, str, int]:
    proc = subprocess.Popen(
        args, env=_env(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err, proc.pid


# ------------------------------------------------------------------------------------ end to end


def _check_stored(payload: dict[str, Any], root: Path) -> dict[str, Any]:
    result = payload["result"]
    key = result["environment"]["key"]
    stored = Path(payload["result_path"])
    assert stored.is_file()
    assert stored.parent == root / "results" / key  # the container's own key
    assert json.loads(stored.read_text())["runner"]["name"] == "docker"
    return result


def test_bench_docker_end_to_end(client: Any, tmp_path: Path) -> None:
    code, out, err, pid = _run_cli(
        _cli("-k", SELECT, "--root", str(tmp_path), "--format", "json", "--no-progress")
    )
    assert code == 0, err
    result = _check_stored(json.loads(out), tmp_path)
    env = result["environment"]
    types = [layer["type"] for layer in env["layers"]]
    assert "container" in types and "emulated" not in types
    assert env["kind"] in ("container", "vm")  # a container; a VM layer when the host is one
    runner = result["runner"]
    info = client.info()
    assert runner["name"] == "docker" and runner["platform"] is None
    assert runner["emulated"] is False
    assert runner["image"].startswith("fastarm-bench:")
    assert runner["image_id"] == client.images.get(runner["image"]).id
    assert runner["container_arch"] == env["arch"] == info["Architecture"]
    assert runner["daemon"]["architecture"] == info["Architecture"]
    assert runner["daemon"]["server_version"] == info["ServerVersion"]
    assert runner["daemon"]["operating_system"] == info["OperatingSystem"]
    assert runner["build"]["steps"] > 0
    assert {c["group"] for c in result["cases"]} == {"dot/float32/1536"}
    assert "Step 1/" in err  # the build log streamed live
    assert _leftovers(client, **{"io.fastarm.pid": str(pid)}) == []


def test_bench_docker_emulated_arm64(client: Any, tmp_path: Path) -> None:
    _need_arm64(client)
    code, out, err, pid = _run_cli(
        _cli(
            "--platform",
            "linux/arm64",
            "-k",
            SELECT,
            "--samples",
            "5",
            "--root",
            str(tmp_path),
            "--format",
            "json",
            "--no-progress",
        )
    )
    assert code == 0, err
    result = _check_stored(json.loads(out), tmp_path)
    env = result["environment"]
    types = [layer["type"] for layer in env["layers"]]
    assert env["arch"] == "aarch64"
    assert "container" in types
    if dockerbase.host_arch() != "arm64":
        assert "emulated" in types and env["kind"] == "emulated"
        assert result["runner"]["emulated"] is True
    assert result["runner"]["platform"] == "linux/arm64"
    assert result["runner"]["container_arch"] == "aarch64"
    assert _leftovers(client, **{"io.fastarm.pid": str(pid)}) == []


def test_unchanged_source_reuses_the_compiled_extension(client: Any, amd64_base: str) -> None:
    runner = _runner_module()
    console = runner._Console(io.StringIO())
    tag = runner.image_tag(amd64_base, None)
    first = runner.build_image(
        client, REPO, base_image=amd64_base, platform=None, tag=tag, console=console
    )
    second = runner.build_image(
        client, REPO, base_image=amd64_base, platform=None, tag=tag, console=console
    )
    assert second.image_id == first.image_id
    compile_ = [cached for step, cached in second.steps if "build_ext" in step]
    assert compile_ == [True]  # the extension build step came from the layer cache
    assert all(cached for step, cached in second.steps if not step.startswith(("ARG", "FROM")))


def test_python_edit_does_not_recompile_the_extension(
    client: Any, amd64_base: str, tmp_path: Path
) -> None:
    """The C compile layer depends only on the files it reads, not on Python sources."""
    runner = _runner_module()
    tree = tmp_path / "repo"
    shutil.copytree(
        REPO,
        tree,
        ignore=shutil.ignore_patterns(
            ".git", ".nox", ".venv", ".cache", "build", "results", "__pycache__", "*.so"
        ),
    )
    console = runner._Console(io.StringIO())
    tag = f"docker-dev-edited:{os.getpid()}"
    first = runner.build_image(
        client, tree, base_image=amd64_base, platform=None, tag=tag, console=console
    )
    edited = tree / "src" / "fastarm" / "bench" / "report.py"
    edited.write_text(edited.read_text() + f"\n# edited {time.time_ns()}\n")
    try:
        after = runner.build_image(
            client, tree, base_image=amd64_base, platform=None, tag=tag, console=console
        )
    finally:
        client.images.remove(tag)
    assert after.image_id != first.image_id
    with pytest.raises(_docker_module().errors.ImageNotFound):
        client.images.get(first.image_id)  # the image the tag left was removed, not left dangling
    cached = dict(after.steps)
    assert cached[next(s for s in cached if "build_ext" in s)] is True
    assert cached["COPY src ./src"] is False


# ----------------------------------------------------------------------------------------- errors


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_daemon_unreachable_unix_socket(tmp_path: Path) -> None:
    runner = _runner_module()
    dead = tmp_path / "docker.sock"
    listener = socket.socket(socket.AF_UNIX)  # bound, never listening: connection refused
    listener.bind(str(dead))
    try:
        with pytest.raises(RunnerError) as info:
            runner.connect({"DOCKER_HOST": f"unix://{dead}"})
    finally:
        listener.close()
    message = str(info.value)
    assert f"DOCKER_HOST=unix://{dead}" in message
    assert "Start the engine" in message or "Start Docker Desktop" in message


def test_daemon_unreachable_cli_stores_nothing(tmp_path: Path) -> None:
    _runner_module()
    host = f"tcp://127.0.0.1:{_free_port()}"
    code, _, err, _ = _run_cli(
        _cli("-k", SELECT, "--root", str(tmp_path), "--save"), timeout=120, DOCKER_HOST=host
    )
    assert code == 4
    assert f"DOCKER_HOST={host}" in err
    assert not (tmp_path / "results").exists() and not (tmp_path / "baselines").exists()


def _write_context(config_dir: Path, name: str, host: str) -> None:
    meta = config_dir / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(
        json.dumps(
            {
                "Name": name,
                "Metadata": {},
                "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}},
            }
        )
    )


def test_cli_context_is_followed(
    client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Like Docker Desktop's ``desktop-linux``: no DOCKER_HOST, the CLI's current context."""
    runner = _runner_module()
    real = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    require("docker", real.startswith("unix://"), f"the engine is not on a unix socket ({real})")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "fastarm-live"}))
    _write_context(tmp_path, "fastarm-live", real)
    _write_context(tmp_path, "fastarm-dead", f"unix://{tmp_path}/nothing.sock")
    live, endpoint = runner.connect()
    assert endpoint.source == "context" and endpoint.context == "fastarm-live"
    assert live.info()["ID"] == client.info()["ID"]
    monkeypatch.setenv("DOCKER_CONTEXT", "fastarm-dead")
    with pytest.raises(RunnerError, match="docker context 'fastarm-dead'"):
        runner.connect()
    monkeypatch.setenv("DOCKER_CONTEXT", "fastarm-missing")
    with pytest.raises(RunnerError, match=r"'fastarm-missing'.*does not exist"):
        runner.connect()


def test_missing_offline_base_image_points_to_the_task(client: Any, tmp_path: Path) -> None:
    runner = _runner_module()
    missing = runner.DockerRunner(runner.DockerOptions(base_image="fastarm-base:docker-dev-none"))
    with pytest.raises(RunnerError, match=r"invoke docker.base --arch (amd64|arm64)"):
        missing.execute(["-k", SELECT], tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()


def test_unpullable_base_image(client: Any, tmp_path: Path) -> None:
    """A base image neither local nor pullable (no registry here; no such repository anywhere)."""
    runner = _runner_module()
    name = f"docker-dev-fastarm-missing-{os.getpid()}:none"
    missing = runner.DockerRunner(runner.DockerOptions(base_image=name))
    with pytest.raises(RunnerError) as info:
        missing.execute(["-k", SELECT], tmp_path / "out.json")
    assert f"base image {name} is not on this daemon and could not be pulled" in str(info.value)
    assert "invoke docker.base --arch" in str(info.value)


def test_base_image_of_the_wrong_architecture(client: Any, amd64_base: str, tmp_path: Path) -> None:
    runner = _runner_module()
    wrong = runner.DockerRunner(runner.DockerOptions(base_image=amd64_base, platform="arm64"))
    if dockerbase.host_arch() != "arm64":
        require("emulation", dockerbase.binfmt_problem("arm64") is None, "arm64 cannot run here")
    with pytest.raises(RunnerError, match="labelled linux/amd64, but --platform asks for"):
        wrong.execute(["-k", SELECT], tmp_path / "out.json")


def test_failing_build_shows_the_last_log_lines(client: Any, tmp_path: Path) -> None:
    """A base image without a shell: the Dockerfile's first RUN fails inside the real builder."""
    runner = _runner_module()
    tree = tmp_path / "tree"
    (tree / "usr/bin").mkdir(parents=True)
    (tree / "etc").mkdir()
    (tree / "etc/motd").write_text("no shell in here\n")
    tarball = tmp_path / "rootfs.tar"
    dockerbase.pack_rootfs(tree, tarball, lambda _: None)
    tag = f"docker-dev-noshell:{os.getpid()}"
    arch = dockerbase.host_arch()
    dockerbase.import_rootfs(client, tarball, arch, tag, "none", lambda _: None)
    try:
        broken = runner.DockerRunner(runner.DockerOptions(base_image=tag))
        with pytest.raises(RunnerError) as info:
            broken.execute(["-k", SELECT], tmp_path / "out.json")
        message = str(info.value)
        assert "docker build failed at step 'RUN command -v gcc" in message
        assert "last build log lines:" in message and "Step 4/" in message
        assert client.containers.list(all=True, filters={"ancestor": tag}) == []
    finally:
        _remove_image_tree(client, client.images.get(tag).id)
    assert not (tmp_path / "out.json").exists()


def _remove_image_tree(client: Any, image_id: str) -> None:
    """Remove an image and the intermediate images the builder cached on top of it."""
    for child in client.images.list(all=True):
        if child.attrs.get("Parent") == image_id:
            _remove_image_tree(client, child.id)
    client.images.remove(image_id, force=True)


def test_container_exiting_nonzero_reports_its_stderr(client: Any, tmp_path: Path) -> None:
    code, _, err, pid = _run_cli(
        _cli("-k", "no-such-op/*", "--root", str(tmp_path), "--save", "--no-progress")
    )
    assert code == 4
    assert "exited with 4" in err
    assert "no case selected" in err  # the harness's own message, from the container's stderr
    assert not (tmp_path / "results").exists() and not (tmp_path / "baselines").exists()
    assert _leftovers(client, **{"io.fastarm.pid": str(pid)}) == []


def test_interrupted_run_leaves_nothing(client: Any, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        _cli("--root", str(tmp_path), "--save", "--no-progress"),
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    mine = {"io.fastarm.pid": str(proc.pid)}
    try:
        deadline = time.monotonic() + 900  # includes a build when the cache is cold
        running: list[Any] = []
        while time.monotonic() < deadline and proc.poll() is None and not running:
            running = [c for c in _leftovers(client, **mine) if c.status == "running"]
            time.sleep(0.5)
        assert running, (
            f"no container started; stderr:\n{proc.stderr.read() if proc.stderr else ''}"
        )
        time.sleep(1.0)  # well inside the measurement
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert _leftovers(client, **mine) == []
    assert not (tmp_path / "results").exists() and not (tmp_path / "baselines").exists()


def test_ready_made_image(client: Any, amd64_base: str, tmp_path: Path) -> None:
    """--image skips the build; an unknown one is refused before anything runs."""
    runner = _runner_module()
    console = runner._Console(io.StringIO())
    tag = runner.image_tag(amd64_base, None)
    built = runner.build_image(
        client, REPO, base_image=amd64_base, platform=None, tag=tag, console=console
    )
    ready = runner.DockerRunner(runner.DockerOptions(image=tag))
    facts = ready.execute(["-k", SELECT, "--samples", "3", "--no-progress"], tmp_path / "r.json")
    assert facts["image_id"] == built.image_id and "build" not in facts
    assert json.loads((tmp_path / "r.json").read_text())["environment"]["kind"] != "native"
    missing = runner.DockerRunner(runner.DockerOptions(image=f"docker-dev-none:{os.getpid()}"))
    with pytest.raises(RunnerError, match="no such image on this daemon"):
        missing.execute(["-k", SELECT], tmp_path / "missing.json")


def _role() -> str:
    return f"docker-dev-test-{os.getpid()}-{time.monotonic_ns()}"


def test_start_failure_leaves_no_created_container(
    client: Any, amd64_base: str, tmp_path: Path
) -> None:
    runner = _runner_module()
    role = _role()
    with pytest.raises(RunnerError, match="failed to start"):
        runner.run_container(
            client,
            amd64_base,
            ["/no/such/program"],
            platform=None,
            role=role,
            fetch=(runner.OUT_FILE, tmp_path / "out.json"),
        )
    assert _leftovers(client, **{"io.fastarm.role": role}) == []


def test_timeout_stops_and_removes_the_container(client: Any, amd64_base: str) -> None:
    runner = _runner_module()
    role = _role()
    with pytest.raises(RunnerError, match="did not finish within 2 s"):
        runner.run_container(
            client,
            amd64_base,
            ["sleep", "60"],
            platform=None,
            role=role,
            timeout=2,
            sink=io.StringIO(),
        )
    assert _leftovers(client, **{"io.fastarm.role": role}) == []


def test_keep_and_resource_limits(client: Any, amd64_base: str) -> None:
    runner = _runner_module()
    role = _role()
    sink = io.StringIO()
    try:
        run = runner.run_container(
            client,
            amd64_base,
            ["python3", "-c", "import os; print('cpus', os.cpu_count())"],
            platform=None,
            cpus=1.5,
            memory="256m",
            keep=True,
            role=role,
            sink=sink,
        )
        assert run.exit_code == 0
        assert "cpus" in sink.getvalue()
        (kept,) = _leftovers(client, **{"io.fastarm.role": role})
        assert kept.id == run.container_id
        assert kept.attrs["HostConfig"]["NanoCpus"] == 1_500_000_000
        assert kept.attrs["HostConfig"]["Memory"] == 256 * 1024 * 1024
        assert kept.attrs["HostConfig"]["NetworkMode"] == "none"
    finally:
        for leftover in _leftovers(client, **{"io.fastarm.role": role}):
            leftover.remove(force=True)


def test_tests_in_emulated_container(
    client: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """pytest inside linux/arm64; FASTARM_REQUIRE stays outside: engine-bound tests skip there."""
    runner = _runner_module()
    _need_arm64(client)
    monkeypatch.setenv("FASTARM_REQUIRE", "all")
    code = runner.run_tests(
        "linux/arm64",
        ["-q", "tests/test_dockerbase.py", "-k", "binfmt or installed_base or register_command"],
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "passed" in out and "skipped" in out  # the engine/binfmt checks skip inside


# ------------------------------------------------------------------------------------------ small


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, None),
        ("", None),
        ("arm64", "linux/arm64"),
        ("linux/aarch64", "linux/arm64"),
        ("linux/arm64/v8", "linux/arm64"),
        ("amd64", "linux/amd64"),
    ],
)
def test_normalize_platform(given: Optional[str], expected: Optional[str]) -> None:
    assert _runner_module().normalize_platform(given) == expected


def test_normalize_platform_rejects_unknown() -> None:
    with pytest.raises(RunnerError, match="--platform 'linux/s390x'"):
        _runner_module().normalize_platform("linux/s390x")


def test_image_tag_depends_on_base_and_platform() -> None:
    runner = _runner_module()
    a = runner.image_tag("fastarm-base:bookworm-arm64", "linux/arm64")
    assert a.startswith("fastarm-bench:arm64-")
    assert a == runner.image_tag("fastarm-base:bookworm-arm64", "linux/arm64")
    assert a != runner.image_tag("python:3.11-slim-bookworm", "linux/arm64")
    assert runner.image_tag("x", None).startswith("fastarm-bench:native-")


def test_endpoint_prefers_docker_host() -> None:
    runner = _runner_module()
    endpoint = runner.resolve_endpoint({"DOCKER_HOST": "tcp://10.0.0.1:2375"})
    assert endpoint.source == "DOCKER_HOST"
    assert endpoint.describe() == "DOCKER_HOST=tcp://10.0.0.1:2375"


def test_source_tree_is_this_repository() -> None:
    runner = _runner_module()
    assert runner.find_source_tree() == REPO
    with pytest.raises(RunnerError, match="source tree"):
        runner.find_source_tree(REPO / "tests")


def test_options_map_to_the_runner() -> None:
    runner = _runner_module()
    parser = argparse.ArgumentParser()
    runner.add_arguments(parser)
    args = parser.parse_args(
        ["--docker", "--platform", "aarch64", "--cpus", "2", "--memory", "4g", "--keep"]
    )
    created = runner.create(args)
    assert args.docker and created.name == "docker"
    assert created.options.platform == "linux/arm64"
    assert (created.options.cpus, created.options.memory, created.options.keep) == (2.0, "4g", True)
    assert created.options.base_image is None and created.options.image is None
