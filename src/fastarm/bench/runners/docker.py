"""The Docker transport: build the bench image, run the harness in a container, bring the JSON back.

Everything goes through the docker SDK (``pip install 'fastarm[docker]'``), which talks to the same
daemon as the ``docker`` CLI: ``DOCKER_HOST`` when set, otherwise the CLI's current context (Docker
Desktop's ``desktop-linux``, a remote ``ssh://`` host, ...), otherwise the default socket.

Flow of :meth:`DockerRunner.execute`:
1. connect and record the daemon's view (``client.info()``) — unreachable daemon: a clear error;
2. pick the base image (``--base-image``; default the offline ``fastarm-base:bookworm-<arch>``
   when it exists, else the public ``python:3.11-slim-bookworm``), check it fits ``--platform``;
3. build ``benchmarks/docker/Dockerfile`` with the legacy builder, streaming its log (docker-py does
   not raise on build errors: every chunk is checked);
4. create, then start the container (so a start failure still leaves us the id to remove), stream
   its output, wait with a timeout, copy ``/out/result.json`` out with ``get_archive``;
5. remove the container in every case (errors, Ctrl-C) unless ``--keep``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import platform as _platform
import re
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence, TextIO

from fastarm.bench import dockerbase
from fastarm.bench.runners import RunnerError

DOCKERFILE = "benchmarks/docker/Dockerfile"
PUBLIC_BASE_IMAGE = "python:3.11-slim-bookworm"
IMAGE_REPOSITORY = "fastarm-bench"
LABEL_ROLE = "io.fastarm.role"
LABEL_RUN = "io.fastarm.run"
LABEL_PID = "io.fastarm.pid"  # the host process that owns the container
OUT_FILE = "/out/result.json"
DEFAULT_TIMEOUT = 6 * 3600.0
_TAIL = 30
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # the builder colours RUN steps' stderr


# ------------------------------------------------------------------------------------ connection


@dataclass(frozen=True)
class Endpoint:
    """Where the client looked for the daemon, for messages and for the result."""

    host: str
    context: str
    source: str  # "DOCKER_HOST" | "context" | "default"

    def describe(self) -> str:
        if self.source == "DOCKER_HOST":
            return f"DOCKER_HOST={self.host}"
        if self.source == "context":
            return f"docker context {self.context!r} ({self.host})"
        return f"the default socket {self.host}"


def _import_docker() -> Any:
    try:
        import docker
    except ImportError as exc:
        raise RunnerError(
            "the Docker runner needs the docker SDK: pip install 'fastarm[docker]'"
        ) from exc
    return docker


def _start_hint() -> str:
    if sys.platform == "darwin" or sys.platform.startswith("win"):
        return "Start Docker Desktop (or switch context: docker context use <name>)."
    return (
        "Start the engine (sudo systemctl start docker, or as root: dockerd &), "
        "or point DOCKER_HOST / `docker context use` at a running one."
    )


def resolve_endpoint(environ: Optional[dict[str, str]] = None) -> Endpoint:
    """``DOCKER_HOST``, else the CLI's context (``DOCKER_CONTEXT`` or ~/.docker/config.json)."""
    env = os.environ if environ is None else environ
    if env.get("DOCKER_HOST"):
        return Endpoint(env["DOCKER_HOST"], env.get("DOCKER_CONTEXT", "default"), "DOCKER_HOST")
    docker = _import_docker()
    from docker.context import ContextAPI
    from docker.context.config import get_current_context_name

    name = env.get("DOCKER_CONTEXT") or get_current_context_name() or "default"
    if name != "default":
        try:
            ctx = ContextAPI.get_context(name)
        except docker.errors.DockerException as exc:
            raise RunnerError(f"docker context {name!r} cannot be loaded: {exc}") from exc
        if ctx is None or not ctx.Host:
            raise RunnerError(
                f"docker context {name!r} (selected by "
                f"{'DOCKER_CONTEXT' if env.get('DOCKER_CONTEXT') else '~/.docker/config.json'}) "
                "does not exist or has no docker endpoint: docker context ls"
            )
        return Endpoint(ctx.Host, name, "context")
    return Endpoint(
        ContextAPI.DEFAULT_CONTEXT.Host or "unix:///var/run/docker.sock", name, "default"
    )


def connect(environ: Optional[dict[str, str]] = None) -> tuple[Any, Endpoint]:
    """A connected ``DockerClient`` and where it points; ``RunnerError`` if unreachable."""
    docker = _import_docker()
    endpoint = resolve_endpoint(environ)
    try:
        if endpoint.source == "context":
            from docker.context import ContextAPI

            ctx = ContextAPI.get_context(endpoint.context)
            client = docker.DockerClient(base_url=endpoint.host, tls=ctx.TLSConfig or False)
        else:
            client = docker.DockerClient.from_env(
                environment=dict(os.environ if environ is None else environ)
            )
        client.ping()
    except Exception as exc:  # DockerException, requests' ConnectionError, socket errors, ...
        raise RunnerError(
            f"cannot reach the Docker daemon at {endpoint.describe()}: {_short(exc)}\n"
            + _start_hint()
        ) from exc
    return client, endpoint


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 400 else text[:400] + "..."


def daemon_facts(client: Any, endpoint: Endpoint) -> dict[str, Any]:
    info = client.info()
    return {
        "operating_system": info.get("OperatingSystem"),
        "os_type": info.get("OSType"),
        "architecture": info.get("Architecture"),
        "server_version": info.get("ServerVersion"),
        "kernel": info.get("KernelVersion"),
        "ncpu": info.get("NCPU"),
        "mem_total": info.get("MemTotal"),
        "host": endpoint.host,
        "context": endpoint.context,
    }


# -------------------------------------------------------------------------------------- platforms


def normalize_platform(value: Optional[str]) -> Optional[str]:
    """``arm64``/``aarch64``/``linux/arm64/v8`` -> ``linux/arm64``; ``None`` stays ``None``."""
    if value is None or not value.strip():
        return None
    try:
        return f"linux/{dockerbase.normalize_arch(value)}"
    except dockerbase.BaseImageError as exc:
        raise RunnerError(f"--platform {value!r}: {exc}") from exc


def _arch_of(platform_or_machine: str) -> str:
    return dockerbase.normalize_arch(platform_or_machine)


def _daemon_is_this_linux_host(endpoint: Endpoint, daemon: dict[str, Any]) -> bool:
    return (
        sys.platform.startswith("linux")
        and endpoint.host.startswith(("unix://", "http+unix://"))
        and daemon.get("operating_system") != "Docker Desktop"
        and daemon.get("kernel") == os.uname().release
    )


def check_emulation(target_arch: str, endpoint: Endpoint, daemon: dict[str, Any]) -> None:
    """Refuse early, with the fix, when a foreign platform cannot run on this daemon's host."""
    if not _daemon_is_this_linux_host(endpoint, daemon):
        return  # Docker Desktop / remote daemons: a failure shows up as 'exec format error' later
    problem = dockerbase.binfmt_problem(target_arch, machine=daemon.get("architecture"))
    if problem:
        raise RunnerError(f"cannot run linux/{target_arch} containers here: {problem}")


# ----------------------------------------------------------------------------------------- source


def find_source_tree(start: Optional[Path] = None) -> Path:
    """The repository root (holds pyproject.toml and the Dockerfile): the build context."""
    here = Path(__file__).resolve()
    candidates = [start] if start else [*here.parents, *Path.cwd().resolve().parents, Path.cwd()]
    for path in candidates:
        if path and (path / DOCKERFILE).is_file() and (path / "pyproject.toml").is_file():
            return path
    raise RunnerError(
        f"the Docker runner builds its image from a fastarm source tree ({DOCKERFILE} not found "
        f"above {here.parent} or {Path.cwd()}): run it from a checkout, or pass --image"
    )


# ------------------------------------------------------------------------------------------ build


@dataclass
class BuildResult:
    image_id: str
    tag: str
    base_image: str
    seconds: float
    steps: list[tuple[str, bool]] = field(default_factory=list)  # (instruction, cached)

    @property
    def cached_steps(self) -> int:
        return sum(1 for _, cached in self.steps if cached)

    def facts(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "steps": len(self.steps),
            "cached_steps": self.cached_steps,
        }


def resolve_base_image(
    client: Any, requested: Optional[str], arch: str, explicit_platform: bool
) -> str:
    """``requested``, else the offline base for ``arch`` when present, else the public image.

    Fails early when an offline base is missing, and when a local base image is labelled with
    another architecture than ``--platform`` asks for (the classic builder would then pull).
    """
    offline = dockerbase.base_tag(arch)
    name = requested
    if name is None:
        name = offline if _local_image(client, offline) is not None else PUBLIC_BASE_IMAGE
    image = _local_image(client, name)
    if image is None and name.startswith("fastarm-base:"):
        raise RunnerError(
            f"base image {name} does not exist on this daemon. Build the offline base image first: "
            f"invoke docker.base --arch {arch}  (python -m fastarm.bench.dockerbase --arch {arch})"
        )
    if image is not None and explicit_platform:
        try:
            labelled = _arch_of(image.attrs.get("Architecture", ""))
        except dockerbase.BaseImageError:
            labelled = image.attrs.get("Architecture")
        if labelled != arch:
            raise RunnerError(
                f"base image {name} is labelled linux/{labelled}, but --platform asks for "
                f"linux/{arch}. Use an image made for linux/{arch}: "
                f"invoke docker.base --arch {arch} builds one with the right label (an image "
                "made with `docker import` is always labelled with the host's architecture)."
            )
    return name


def _local_image(client: Any, name: str) -> Any:
    docker = _import_docker()
    try:
        return client.images.get(name)
    except docker.errors.ImageNotFound:
        return None


def image_tag(base_image: str, platform: Optional[str]) -> str:
    digest = hashlib.sha256(f"{base_image}|{platform}".encode()).hexdigest()[:10]
    arch = platform.split("/")[1] if platform else "native"
    return f"{IMAGE_REPOSITORY}:{arch}-{digest}"


class _Console:
    """Live build/run output on stderr (rich when available), keeping the last lines for errors."""

    def __init__(self, stream: Optional[TextIO] = None) -> None:
        self.stream = stream or sys.stderr
        self.tail: deque[str] = deque(maxlen=_TAIL)
        try:
            from rich.console import Console

            self._rich: Any = Console(file=self.stream, highlight=False, soft_wrap=True)
        except ImportError:  # the bench extra brings rich; plain text otherwise
            self._rich = None

    def line(self, text: str, style: str = "") -> None:
        self.tail.append(text)
        if self._rich is not None:
            self._rich.print(text, style=style or None, markup=False)
        else:
            print(text, file=self.stream, flush=True)

    def status(self, text: str) -> Any:
        if self._rich is not None and self._rich.is_terminal:
            return self._rich.status(text)
        self.line(text, "bold")
        return _NullContext()


class _NullContext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def build_image(
    client: Any,
    source: Path,
    *,
    base_image: str,
    platform: Optional[str],
    tag: str,
    console: _Console,
) -> BuildResult:
    """Build the bench image, streaming its log; ``RunnerError`` with the last lines on failure."""
    start = time.monotonic()
    previous = _local_image(client, tag)
    result = BuildResult("", tag, base_image, 0.0)
    step: Optional[str] = None
    failure: Optional[str] = None
    with console.status(f"building {tag} from {base_image} ({platform or 'native platform'})"):
        for chunk in client.api.build(
            path=str(source),
            dockerfile=DOCKERFILE,
            tag=tag,
            buildargs={"BASE_IMAGE": base_image},
            platform=platform,
            rm=True,
            forcerm=True,
            decode=True,
        ):
            if "error" in chunk or "errorDetail" in chunk:
                failure = chunk.get("error") or chunk.get("errorDetail", {}).get("message", "")
                console.line(failure.rstrip(), "bold red")
                break
            if "aux" in chunk and isinstance(chunk["aux"], dict) and "ID" in chunk["aux"]:
                result.image_id = chunk["aux"]["ID"]
            text = _ANSI.sub("", chunk.get("stream") or chunk.get("status") or "").rstrip()
            if not text:
                continue
            if text.startswith("Step "):
                step = text.split(" : ", 1)[-1]
                result.steps.append((step, False))
                console.line(text, "bold")
            elif text.strip() == "---> Using cache" and result.steps:
                result.steps[-1] = (result.steps[-1][0], True)
                console.line(text, "dim")
            else:
                console.line(text, "dim")
    result.seconds = time.monotonic() - start
    if failure is not None:
        if _local_image(client, base_image) is None:
            arch = _arch_of(platform) if platform else dockerbase.host_arch()
            raise RunnerError(
                f"base image {base_image} is not on this daemon and could not be pulled: "
                f"{failure.strip()}\nWithout a registry, build the offline base image: "
                f"invoke docker.base --arch {arch}  (then it is the default base image)"
            )
        hint = ""
        if "exec format error" in failure or "exec format error" in "\n".join(console.tail):
            hint = "\n" + dockerbase.emulation_help(_arch_of(platform or _platform.machine()))
        raise RunnerError(
            f"docker build failed at step {step!r}: {failure.strip()}\n"
            "last build log lines:\n  " + "\n  ".join(console.tail) + hint
        )
    if not result.image_id:
        result.image_id = client.images.get(tag).id
    if previous is not None and previous.id != result.image_id:
        # the tag moved: drop the image it pointed to (kept if a container still uses it)
        with contextlib.suppress(_import_docker().errors.APIError):
            client.images.remove(previous.id)
    return result


# -------------------------------------------------------------------------------------------- run


@dataclass
class ContainerRun:
    exit_code: int
    container_id: str
    output_tail: list[str]


def _stream_logs(container: Any, sink: TextIO, tail: deque[str]) -> None:
    buffer = b""
    try:
        for chunk in container.logs(stream=True, follow=True):
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                text = raw.decode(errors="replace")
                tail.append(text)
                print(text, file=sink, flush=True)
    except Exception:  # the container was removed under us (Ctrl-C, timeout): stop quietly
        return
    if buffer:
        text = buffer.decode(errors="replace")
        tail.append(text)
        print(text, file=sink, flush=True)


def run_container(
    client: Any,
    image: str,
    command: Sequence[str],
    *,
    platform: Optional[str],
    cpus: Optional[float] = None,
    memory: Optional[str] = None,
    keep: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    role: str = "bench",
    sink: Optional[TextIO] = None,
    fetch: Optional[tuple[str, Path]] = None,
) -> ContainerRun:
    """Create, start, stream, wait; copy ``fetch=(path_in_container, host_path)`` out on success.

    The container is removed in ``finally`` (also on Ctrl-C and start failures) unless ``keep``.
    A non-zero exit raises only when ``fetch`` is given (the bench); the test runner wants the code.
    """
    docker = _import_docker()
    sink = sink or sys.stderr
    run_id = uuid.uuid4().hex[:12]
    kwargs: dict[str, Any] = {
        "labels": {LABEL_ROLE: role, LABEL_RUN: run_id, LABEL_PID: str(os.getpid())},
        "network_mode": "none",
        "environment": {"PYTHONUNBUFFERED": "1"},
        "detach": True,
    }
    if platform:
        kwargs["platform"] = platform
    if cpus:
        kwargs["nano_cpus"] = int(cpus * 1e9)
    if memory:
        kwargs["mem_limit"] = memory
    try:
        container = client.containers.create(image, list(command), **kwargs)
    except docker.errors.APIError as exc:
        _remove_by_label(client, run_id)  # a half-created container must not survive
        raise RunnerError(f"cannot create a container of {image}: {_short(exc)}") from exc
    tail: deque[str] = deque(maxlen=_TAIL)
    streamer = threading.Thread(target=_stream_logs, args=(container, sink, tail), daemon=True)
    try:
        try:
            container.start()
        except docker.errors.APIError as exc:
            hint = ""
            if "exec format error" in str(exc) and platform:
                hint = "\n" + dockerbase.emulation_help(_arch_of(platform))
            raise RunnerError(f"container of {image} failed to start: {_short(exc)}{hint}") from exc
        streamer.start()
        try:
            status = container.wait(timeout=timeout)
        except Exception as exc:  # requests' ReadTimeout / ConnectionError
            raise RunnerError(
                f"container {container.short_id} did not finish within {timeout:.0f} s "
                f"({_short(exc)}); {'kept (--keep)' if keep else 'it is removed'}"
            ) from exc
        streamer.join(timeout=10)
        code = int(status.get("StatusCode", -1))
        if fetch is not None:
            if code != 0:
                stderr = container.logs(stdout=False, stderr=True, tail=_TAIL).decode(
                    errors="replace"
                )
                hint = ""
                if "exec format error" in stderr and platform:
                    hint = "\n" + dockerbase.emulation_help(_arch_of(platform))
                raise RunnerError(
                    f"the benchmark in container {container.short_id} exited with {code}; "
                    f"its stderr ends with:\n  " + "\n  ".join(stderr.rstrip().splitlines()) + hint
                )
            _copy_out(container, *fetch)
        return ContainerRun(code, container.id, list(tail))
    finally:
        if keep:
            print(
                f"kept container {container.short_id} ({image}); remove it with: "
                f"docker rm -f {container.short_id}",
                file=sys.stderr,
            )
        else:
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True, v=True)


def _remove_by_label(client: Any, run_id: str) -> None:
    for leftover in client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={run_id}"}):
        leftover.remove(force=True, v=True)


def _copy_out(container: Any, path: str, dest: Path) -> None:
    docker = _import_docker()
    try:
        bits, _ = container.get_archive(path)
    except docker.errors.NotFound as exc:
        raise RunnerError(
            f"the container exited 0 but wrote no {path}: is its fastarm too old?"
        ) from exc
    archive = io.BytesIO(b"".join(bits))
    with tarfile.open(fileobj=archive) as tar:
        member = tar.getmember(Path(path).name)
        extracted = tar.extractfile(member)
        if extracted is None:
            raise RunnerError(f"{path} in the container is not a regular file")
        data = extracted.read()
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# ----------------------------------------------------------------------------------------- runner


@dataclass
class DockerOptions:
    platform: Optional[str] = None
    image: Optional[str] = None
    base_image: Optional[str] = None
    cpus: Optional[float] = None
    memory: Optional[str] = None
    keep: bool = False
    timeout: float = DEFAULT_TIMEOUT
    source: Optional[Path] = None


class DockerRunner:
    name = "docker"

    def __init__(self, options: Optional[DockerOptions] = None) -> None:
        self.options = options or DockerOptions()
        self.options.platform = normalize_platform(self.options.platform)

    def prepare(self, console: _Console) -> tuple[Any, dict[str, Any], str, Optional[BuildResult]]:
        """Connect, check emulation, build (unless ``--image``): client, facts, image, build."""
        opts = self.options
        client, endpoint = connect()
        daemon = daemon_facts(client, endpoint)
        daemon_arch = _arch_of(daemon.get("architecture") or _platform.machine())
        target_arch = _arch_of(opts.platform) if opts.platform else daemon_arch
        if target_arch != daemon_arch:
            check_emulation(target_arch, endpoint, daemon)
        facts: dict[str, Any] = {
            "name": self.name,
            "platform": opts.platform,
            "emulated": target_arch != daemon_arch,
            "limits": {"cpus": opts.cpus, "memory": opts.memory},
            "daemon": daemon,
        }
        build: Optional[BuildResult] = None
        if opts.image:
            image = opts.image
            if _local_image(client, image) is None:
                raise RunnerError(f"--image {image}: no such image on this daemon")
            facts.update(image=image, image_id=client.images.get(image).id, base_image=None)
        else:
            source = find_source_tree(opts.source)
            base = resolve_base_image(client, opts.base_image, target_arch, bool(opts.platform))
            tag = image_tag(base, opts.platform)
            build = build_image(
                client, source, base_image=base, platform=opts.platform, tag=tag, console=console
            )
            facts.update(image=tag, image_id=build.image_id, base_image=base, build=build.facts())
        return client, facts, str(facts["image"]), build

    def execute(self, run_args: Sequence[str], out_json: Path) -> dict[str, Any]:
        console = _Console()
        client, facts, image, _ = self.prepare(console)
        command = ["python3", "-m", "fastarm.bench", "run", "--json", OUT_FILE, *run_args]
        console.line(f"running {' '.join(command)} in {image}", "bold")
        run_container(
            client,
            image,
            command,
            platform=self.options.platform,
            cpus=self.options.cpus,
            memory=self.options.memory,
            keep=self.options.keep,
            timeout=self.options.timeout,
            role="bench",
            fetch=(OUT_FILE, Path(out_json)),
        )
        facts["container_arch"] = _container_arch(Path(out_json))
        return facts


def _container_arch(result_json: Path) -> Optional[str]:
    import json

    try:
        data = json.loads(result_json.read_text())
        return data.get("environment", {}).get("arch")
    except (OSError, ValueError, AttributeError):
        return None


def run_tests(
    platform: Optional[str] = None,
    pytest_args: Sequence[str] = (),
    *,
    base_image: Optional[str] = None,
    image: Optional[str] = None,
    cpus: Optional[float] = None,
    memory: Optional[str] = None,
    keep: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
) -> int:
    """Build the image (tests included) and run ``python3 -m pytest`` inside; return pytest's code.

    No ``FASTARM_REQUIRE`` goes in: there is no Docker daemon or sshd inside, so those tests skip
    there, while everything else (the kernels, the harness) runs on the container's architecture.
    """
    runner = DockerRunner(
        DockerOptions(
            platform=platform,
            image=image,
            base_image=base_image,
            cpus=cpus,
            memory=memory,
            keep=keep,
            timeout=timeout,
        )
    )
    console = _Console()
    try:
        client, facts, built, _ = runner.prepare(console)
        command = ["python3", "-m", "pytest", "-p", "no:cacheprovider", *pytest_args]
        console.line(
            f"running {' '.join(command)} in {built} ({runner.options.platform or 'native'})"
        )
        run = run_container(
            client,
            built,
            command,
            platform=runner.options.platform,
            cpus=cpus,
            memory=memory,
            keep=keep,
            timeout=timeout,
            role="tests",
            sink=sys.stdout,
        )
    except RunnerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4
    del facts
    return run.exit_code


# ---------------------------------------------------------------------------------------- options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The Docker runner's options (``parser`` may be an argument group)."""
    group = parser
    group.add_argument("--docker", action="store_true", help="run in a Docker container")
    group.add_argument(
        "--platform", help="container platform, e.g. linux/arm64 (emulated on an x86 host)"
    )
    group.add_argument("--image", help="run this ready-made image instead of building one")
    group.add_argument(
        "--base-image",
        help=f"FROM image for the build (default: fastarm-base:{dockerbase.SUITE}-<arch> when "
        f"present, else {PUBLIC_BASE_IMAGE})",
    )
    group.add_argument("--cpus", type=float, help="CPU limit for the container, e.g. 2")
    group.add_argument("--memory", help="memory limit for the container, e.g. 4g")
    group.add_argument("--keep", action="store_true", help="keep the container (debugging)")
    group.add_argument(
        "--docker-timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="seconds before the container is stopped (default %(default)s)",
    )


def create(args: argparse.Namespace) -> DockerRunner:
    return DockerRunner(
        DockerOptions(
            platform=getattr(args, "platform", None),
            image=getattr(args, "image", None),
            base_image=getattr(args, "base_image", None),
            cpus=getattr(args, "cpus", None),
            memory=getattr(args, "memory", None),
            keep=bool(getattr(args, "keep", False)),
            timeout=float(getattr(args, "docker_timeout", None) or DEFAULT_TIMEOUT),
        )
    )


# ------------------------------------------------------------------------------------ maintenance


def clean(client: Any, *, base: bool = False, log: Any = print) -> list[str]:
    """Remove fastarm's containers (any ``io.fastarm.role``), its bench images and, with ``base``,
    the offline base images.  Returns what was removed."""
    docker = _import_docker()
    removed: list[str] = []
    for container in client.containers.list(all=True, filters={"label": LABEL_ROLE}):
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True, v=True)
            removed.append(f"container {container.short_id} ({container.labels.get(LABEL_ROLE)})")
    repositories = [IMAGE_REPOSITORY] + (["fastarm-base"] if base else [])
    for repository in repositories:
        for image in client.images.list(name=repository):
            for tag in image.tags:
                if tag.split(":", 1)[0] == repository:
                    with contextlib.suppress(docker.errors.ImageNotFound):
                        client.images.remove(tag)
                        removed.append(f"image {tag}")
    for line in removed:
        log(f"removed {line}")
    return removed


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m fastarm.bench.runners.docker test|clean`` (what the Nox/Invoke hooks call)."""
    parser = argparse.ArgumentParser(prog="python -m fastarm.bench.runners.docker")
    sub = parser.add_subparsers(dest="command", required=True)
    test = sub.add_parser("test", help="run pytest in a container; other arguments go to pytest")
    test.add_argument("--platform", help="e.g. linux/arm64 (emulated on an x86 host)")
    test.add_argument("--base-image", help="FROM image for the build")
    test.add_argument("--image", help="a ready-made image instead of building one")
    test.add_argument("--keep", action="store_true", help="keep the container")
    tidy = sub.add_parser("clean", help="remove fastarm containers and bench images")
    tidy.add_argument("--base", action="store_true", help="also the offline base images")
    args, rest = parser.parse_known_args(argv)
    if args.command == "clean":
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        try:
            client, _ = connect()
        except RunnerError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 4
        clean(client, base=args.base)
        return 0
    if rest[:1] == ["--"]:
        rest = rest[1:]
    return run_tests(
        args.platform, rest, base_image=args.base_image, image=args.image, keep=args.keep
    )


if __name__ == "__main__":
    sys.exit(main())
