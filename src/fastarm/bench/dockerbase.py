"""Offline Debian base images for the Docker runner (debootstrap + import into the engine).

Machines that cannot pull images (air-gapped hosts, CI without a registry) still need a base image
with Python, NumPy and a C compiler.  :func:`build_base` makes one from Debian packages:

1. ``debootstrap --variant=minbase --include=<PACKAGES>`` into a scratch directory (a foreign
   architecture runs its package scripts through qemu-user, registered in binfmt_misc);
2. pack the tree into a tarball kept in the cache directory (``$FASTARM_CACHE`` or
   ``~/.cache/fastarm``), so a second call skips step 1;
3. build ``FROM scratch`` + ``ADD rootfs.tar /`` with the requested platform.  Going through the
   builder (rather than ``docker import``) is what records the real architecture in the image
   config: an imported image is labelled with the host's architecture whatever it contains;
4. run ``platform.machine()`` in a throw-away container to check what actually executes.

Command line: ``python -m fastarm.bench.dockerbase --arch arm64`` (also ``invoke docker.base``).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
PACKAGES: tuple[str, ...] = (
    "python3",
    "python3-numpy",
    "python3-dev",
    "python3-venv",
    "python3-pip",
    "python3-setuptools",
    "python3-wheel",
    "python3-pytest",
    "python3-tabulate",
    "python3-rich",
    "python3-threadpoolctl",
    "gcc",
    "libc6-dev",
    "openssh-server",
    "ca-certificates",
)

#: Debian architecture -> (what ``uname -m`` says, the qemu-user binfmt_misc entry that runs it).
ARCHES: dict[str, tuple[str, str]] = {
    "amd64": ("x86_64", "qemu-x86_64"),
    "arm64": ("aarch64", "qemu-aarch64"),
}
_MACHINE_ALIASES = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "x64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "arm64/v8": "arm64",
}

#: Magic and mask of the ELF header for each qemu-user handler (the values qemu's own
#: ``qemu-binfmt-conf.sh`` registers).
_BINFMT_MAGIC = {
    "qemu-aarch64": (
        r"\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00",
        r"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff",
    ),
    "qemu-x86_64": (
        r"\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00",
        r"\xff\xff\xff\xff\xff\xfe\xfe\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff",
    ),
}

LABEL_PREFIX = "io.fastarm"
Log = Callable[[str], None]


class BaseImageError(RuntimeError):
    """A base image could not be built; the message says what to do."""


@dataclass(frozen=True)
class BaseImage:
    tag: str
    image_id: str
    arch: str
    machine: str  # platform.machine() observed inside a container of the image
    tarball: Path
    reused_tarball: bool
    seconds: float


# ----------------------------------------------------------------------------------------- naming


def normalize_arch(value: str) -> str:
    """``arm64``/``aarch64``/``linux/arm64[/v8]`` -> ``arm64``; likewise for amd64."""
    text = value.strip().lower()
    if text.startswith("linux/"):
        text = text[len("linux/") :]
    arch = _MACHINE_ALIASES.get(text)
    if arch is None:
        raise BaseImageError(
            f"unsupported architecture {value!r}: choose one of {', '.join(sorted(ARCHES))}"
        )
    return arch


def host_arch() -> str:
    return normalize_arch(platform.machine())


def base_tag(arch: str, suite: str = SUITE) -> str:
    """The image :func:`build_base` makes by default, e.g. ``fastarm-base:bookworm-arm64``."""
    return f"fastarm-base:{suite}-{normalize_arch(arch)}"


def default_cache_dir(environ: Optional[Mapping[str, str]] = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("FASTARM_CACHE"):
        return Path(env["FASTARM_CACHE"]).expanduser()
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]).expanduser() / "fastarm"
    return Path("~/.cache/fastarm").expanduser()


# ----------------------------------------------------------------------------------------- mirror


def _deb822_stanzas(text: str) -> Iterator[dict[str, str]]:
    stanza: dict[str, str] = {}
    for raw in [*text.splitlines(), ""]:
        line = raw.rstrip()
        if line.startswith("#"):
            continue
        if not line.strip():
            if stanza:
                yield stanza
            stanza = {}
            continue
        if ":" in line and not line[0].isspace():
            key, _, value = line.partition(":")
            stanza[key.strip().lower()] = value.strip()
    return


def _is_main_suite(suite: str) -> bool:
    return not re.search(r"-(security|updates|backports|proposed-updates)$|/updates$", suite)


def default_mirror(root: Path = Path("/")) -> str:
    """The Debian mirror this host already uses, else ``deb.debian.org``.

    Reads ``/etc/apt/sources.list.d/debian.sources`` (deb822, Debian 12+), then
    ``/etc/apt/sources.list``; only entries of a main Debian suite count (not -security/-updates,
    not another distribution).
    """
    deb822 = root / "etc/apt/sources.list.d/debian.sources"
    if deb822.is_file():
        for stanza in _deb822_stanzas(deb822.read_text(errors="replace")):
            if "deb" not in stanza.get("types", "").split():
                continue
            if stanza.get("enabled", "yes").lower() == "no":
                continue
            suites = stanza.get("suites", "").split()
            uris = stanza.get("uris", "").split()
            if uris and any(_is_main_suite(s) for s in suites):
                return uris[0].rstrip("/")
    legacy = root / "etc/apt/sources.list"
    if legacy.is_file():
        for line in legacy.read_text(errors="replace").splitlines():
            text = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0])  # drop [arch=...] options
            parts = text.split()
            if len(parts) >= 3 and parts[0] == "deb" and "debian" in parts[1]:  # noqa: SIM102
                if _is_main_suite(parts[2]):
                    return parts[1].rstrip("/")
    return DEFAULT_MIRROR


# ----------------------------------------------------------------------------------------- binfmt


def register_command(arch: str) -> str:
    """The shell command (as root) that registers qemu-user for ``arch`` with the F flag."""
    entry = ARCHES[normalize_arch(arch)][1]
    magic, mask = _BINFMT_MAGIC[entry]
    return (
        "mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true\n"
        f"echo ':{entry}:M::{magic}:{mask}:/usr/bin/{entry}-static:OCF' "
        "> /proc/sys/fs/binfmt_misc/register"
    )


def emulation_help(arch: str, system: Optional[str] = None) -> str:
    """How to make ``arch`` binaries run on this kind of host."""
    arch = normalize_arch(arch)
    entry = ARCHES[arch][1]
    system = system or platform.system()
    if system != "Linux":
        return (
            f"Docker Desktop ({system}) runs {arch} containers through its built-in emulation "
            "(QEMU/Rosetta): nothing to register. Check Settings > General > 'Use Rosetta' / "
            "'Use containerd' if a foreign image fails to start."
        )
    return (
        f"Register qemu-user for {arch} in binfmt_misc with the F (fix-binary) flag, so the kernel "
        "finds the emulator from inside containers and chroots. As root:\n"
        "  apt-get install -y qemu-user-static binfmt-support   # Debian/Ubuntu\n"
        f"  {register_command(arch).replace(chr(10), chr(10) + '  ')}\n"
        f"(or, where a registry is reachable: docker run --privileged --rm tonistiigi/binfmt "
        f"--install {arch}). Check with: cat /proc/sys/fs/binfmt_misc/{entry}"
    )


def binfmt_problem(
    arch: str, *, root: Path = Path("/"), machine: Optional[str] = None
) -> Optional[str]:
    """``None`` when this Linux host can execute ``arch`` binaries, else what is wrong and the fix.

    Pure over ``root`` (tests pass a recorded ``/proc`` tree).  Native architecture: always fine.
    """
    arch = normalize_arch(arch)
    here = normalize_arch(machine or platform.machine())
    if arch == here:
        return None
    entry = ARCHES[arch][1]
    path = root / "proc/sys/fs/binfmt_misc" / entry
    if not path.exists():
        return f"no binfmt_misc handler for {arch} ({path} is missing).\n" + emulation_help(
            arch, "Linux"
        )
    text = path.read_text(errors="replace")
    if not text.startswith("enabled"):
        return f"the binfmt_misc handler {path} is disabled.\n" + emulation_help(arch, "Linux")
    flags = re.search(r"^flags:\s*(\S*)", text, re.MULTILINE)
    if flags is None or "F" not in flags.group(1):
        return (
            f"the binfmt_misc handler {path} lacks the F flag: the emulator cannot be found "
            "from inside a container or chroot. Remove it (echo -1 > "
            f"{path}) and register it again.\n" + emulation_help(arch, "Linux")
        )
    return None


# -------------------------------------------------------------------------------------- debootstrap


def _stream_process(cmd: Sequence[str], log_file: Path, log: Log) -> None:
    tail: deque[str] = deque(maxlen=25)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "w") as sink:
        try:
            proc = subprocess.Popen(
                list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
            )
        except FileNotFoundError as exc:
            raise BaseImageError(
                f"{cmd[0]} not found: install it (apt-get install -y {cmd[0]})"
            ) from exc
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                sink.write(line)
                tail.append(line.rstrip())
                log(line.rstrip())
            code = proc.wait()
        except BaseException:
            proc.terminate()
            proc.wait()
            raise
    if code != 0:
        raise BaseImageError(
            f"{cmd[0]} failed (exit {code}); full log: {log_file}\n" + "\n".join(tail)
        )


def debootstrap(arch: str, target: Path, mirror: str, log_file: Path, log: Log) -> None:
    """Install a minimal Debian ``SUITE`` with :data:`PACKAGES` into ``target`` (needs root)."""
    if shutil.which("debootstrap") is None:
        raise BaseImageError(
            "debootstrap is not installed: apt-get install -y debootstrap "
            "(a Debian or Ubuntu host is needed to build the offline base images)"
        )
    if getattr(os, "geteuid", lambda: 0)() != 0:
        raise BaseImageError("debootstrap must run as root: run this command with sudo")
    problem = binfmt_problem(arch)
    if problem:
        raise BaseImageError(f"cannot bootstrap {arch} here: {problem}")
    cmd = [
        "debootstrap",
        f"--arch={arch}",
        "--variant=minbase",
        f"--include={','.join(PACKAGES)}",
        SUITE,
        str(target),
        mirror,
    ]
    log("$ " + " ".join(cmd))
    _stream_process(cmd, log_file, log)


_EXCLUDES = (
    "./dev/*",
    "./proc/*",
    "./sys/*",
    "./tmp/*",
    "./run/*",
    "./var/cache/apt/archives/*.deb",
    "./var/cache/apt/*.bin",
    "./var/lib/apt/lists/*",
    "./var/log/*",
    "./debootstrap",
)


def pack_rootfs(rootfs: Path, tarball: Path, log: Log) -> None:
    """Tar ``rootfs`` (numeric owners; no devices, no apt caches) into ``tarball``, atomically."""
    if not (rootfs / "usr/bin").is_dir():
        raise BaseImageError(f"{rootfs} does not look like a root file system (no usr/bin)")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=tarball.name + ".", suffix=".part", dir=tarball.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    cmd = ["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(tmp)]
    cmd += [f"--exclude={pattern}" for pattern in _EXCLUDES]
    cmd.append(".")
    log(f"packing {rootfs} -> {tarball}")
    try:
        _stream_process(cmd, tarball.with_suffix(".log"), log)
        os.chmod(tmp, 0o644)
        os.replace(tmp, tarball)
    finally:
        tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------- import

_IMPORT_DOCKERFILE = """\
FROM scratch
ADD rootfs.tar /
ENV LANG=C.UTF-8
LABEL {labels}
CMD ["/bin/bash"]
"""

_BLOCK = tarfile.BLOCKSIZE


def _padding(size: int) -> bytes:
    return b"\0" * ((_BLOCK - size % _BLOCK) % _BLOCK)


def build_context(dockerfile: str, tarball: Path, chunk: int = 1 << 20) -> Iterator[bytes]:
    """Stream a build context (``Dockerfile`` + ``rootfs.tar``) without copying the tarball."""
    data = dockerfile.encode()
    info = tarfile.TarInfo("Dockerfile")
    info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
    yield info.tobuf(tarfile.GNU_FORMAT)
    yield data + _padding(len(data))
    size = tarball.stat().st_size
    info = tarfile.TarInfo("rootfs.tar")
    info.size, info.mode, info.mtime = size, 0o644, int(tarball.stat().st_mtime)
    yield info.tobuf(tarfile.GNU_FORMAT)
    sent = 0
    with open(tarball, "rb") as f:
        while block := f.read(chunk):
            sent += len(block)
            yield block
    if sent != size:
        raise BaseImageError(f"{tarball} changed while it was being sent")
    yield _padding(size)
    yield b"\0" * (2 * _BLOCK)


def _labels(arch: str, mirror: str) -> dict[str, str]:
    return {
        "org.opencontainers.image.title": "fastarm-base",
        "org.opencontainers.image.description": f"Debian {SUITE} {arch} with Python, NumPy and gcc",
        f"{LABEL_PREFIX}.base.arch": arch,
        f"{LABEL_PREFIX}.base.machine": ARCHES[arch][0],
        f"{LABEL_PREFIX}.base.suite": SUITE,
        f"{LABEL_PREFIX}.base.mirror": mirror,
        f"{LABEL_PREFIX}.base.packages": ",".join(PACKAGES),
    }


def docker_client() -> Any:
    """The daemon the Docker runner would use (DOCKER_HOST, else the CLI context)."""
    from fastarm.bench.runners import RunnerError
    from fastarm.bench.runners.docker import connect

    try:
        client, _ = connect()
    except RunnerError as exc:
        raise BaseImageError(str(exc)) from exc
    return client


def import_rootfs(client: Any, tarball: Path, arch: str, tag: str, mirror: str, log: Log) -> str:
    """Build ``tag`` for ``linux/<arch>`` from ``tarball``; return the image id."""
    labels = " ".join(f'{k}="{v}"' for k, v in _labels(arch, mirror).items())
    dockerfile = _IMPORT_DOCKERFILE.format(labels=labels)
    tail: deque[str] = deque(maxlen=20)
    image_id = None
    log(f"importing {tarball} as {tag} (linux/{arch})")
    for chunk in client.api.build(
        fileobj=build_context(dockerfile, tarball),
        custom_context=True,
        tag=tag,
        platform=f"linux/{arch}",
        rm=True,
        forcerm=True,
        decode=True,
    ):
        if "error" in chunk or "errorDetail" in chunk:
            message = chunk.get("error") or chunk["errorDetail"].get("message", "")
            raise BaseImageError(f"import of {tarball} failed: {message}\n" + "\n".join(tail))
        text = chunk.get("stream", "").rstrip()
        if text:
            tail.append(text)
            if not text.startswith(" --->"):
                log(text)
        if "aux" in chunk and "ID" in chunk["aux"]:
            image_id = chunk["aux"]["ID"]
    if image_id is None:
        raise BaseImageError(f"import of {tarball} produced no image\n" + "\n".join(tail))
    return str(image_id)


def probe_machine(client: Any, image: str, arch: str) -> str:
    """Run ``platform.machine()`` in a throw-away container (always removed)."""
    container = client.containers.create(
        image,
        ["python3", "-c", "import platform; print(platform.machine())"],
        platform=f"linux/{arch}",
        network_mode="none",
        labels={f"{LABEL_PREFIX}.role": "probe"},
    )
    try:
        try:
            container.start()
        except Exception as exc:
            raise BaseImageError(
                f"a container of {image} does not start: {exc}\n{emulation_help(arch)}"
            ) from exc
        status = container.wait(timeout=300)
        output = container.logs().decode(errors="replace").strip()
        if status.get("StatusCode") != 0:
            hint = emulation_help(arch) if "exec format error" in output else ""
            raise BaseImageError(f"python3 fails in {image}: {output}\n{hint}".rstrip())
        return output.splitlines()[-1].strip()
    finally:
        container.remove(force=True)


def build_base(
    arch: str,
    *,
    mirror: Optional[str] = None,
    cache_dir: Optional[Path] = None,
    tag: Optional[str] = None,
    force: bool = False,
    rootfs: Optional[Path] = None,
    client: Any = None,
    log: Log = print,
) -> BaseImage:
    """Build (or reuse the cached rootfs tarball of) the offline base image for ``arch``.

    ``rootfs`` packs an existing Debian tree instead of running debootstrap.  ``force`` discards the
    cached tarball.  Returns what was built, including the machine observed inside a container.
    """
    start = time.monotonic()
    arch = normalize_arch(arch)
    mirror = (mirror or default_mirror()).rstrip("/")
    tag = tag or base_tag(arch)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    tarball = cache / f"rootfs-{SUITE}-{arch}.tar"
    client = client or docker_client()
    reused = tarball.is_file() and not force
    if reused:
        log(f"reusing cached {tarball} (pass --force to rebuild it)")
    elif rootfs is not None:
        pack_rootfs(Path(rootfs), tarball, log)
    else:
        scratch = Path(tempfile.mkdtemp(prefix=f"rootfs-{arch}-", dir=_mkdir(cache)))
        try:
            debootstrap(arch, scratch, mirror, cache / f"debootstrap-{arch}.log", log)
            pack_rootfs(scratch, tarball, log)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    image_id = import_rootfs(client, tarball, arch, tag, mirror, log)
    machine = probe_machine(client, tag, arch)
    if machine != ARCHES[arch][0]:
        raise BaseImageError(
            f"{tag} was built for {arch} but runs as {machine!r}: the tree is of another "
            f"architecture; rebuild with --force"
        )
    return BaseImage(tag, image_id, arch, machine, tarball, reused, time.monotonic() - start)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


# ------------------------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--arch", action="append", help="amd64 or arm64; repeat for both (default: this machine's)"
    )
    parser.add_argument(
        "--mirror", help="Debian mirror (default: this host's, else deb.debian.org)"
    )
    parser.add_argument("--cache-dir", type=Path, help="where the rootfs tarball is kept")
    parser.add_argument("--tag", help="image name (default fastarm-base:bookworm-<arch>)")
    parser.add_argument(
        "--rootfs", type=Path, help="pack this existing Debian tree, no debootstrap"
    )
    parser.add_argument("--force", action="store_true", help="rebuild the cached rootfs tarball")


def run(args: argparse.Namespace) -> int:
    args.arch = args.arch or [platform.machine()]
    if args.tag and len(args.arch) > 1:
        print("error: --tag names one image; give one --arch", file=sys.stderr)
        return 4
    for arch in args.arch:
        try:
            result = build_base(
                arch,
                mirror=args.mirror,
                cache_dir=args.cache_dir,
                tag=args.tag,
                force=args.force,
                rootfs=args.rootfs,
                log=lambda line: print(line, file=sys.stderr, flush=True),
            )
        except BaseImageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 4
        except KeyboardInterrupt:
            print("interrupted: no image tagged, cached tarball untouched", file=sys.stderr)
            return 130
        print(
            f"{result.tag}  {result.image_id[:19]}  runs as {result.machine}  "
            f"({'cached' if result.reused_tarball else 'new'} rootfs, {result.seconds:.1f} s)"
        )
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fastarm.bench.dockerbase",
        description="Build offline Debian base images (debootstrap + import) for Docker runs.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
