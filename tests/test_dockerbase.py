"""Offline base images: mirror and binfmt detection over recorded trees, the rootfs packing, and a
real import into the engine (the slow debootstrap step itself is exercised by the base-image build
that CI runs before the tests: ``invoke docker.base --arch amd64 --arch arm64``)."""

from __future__ import annotations

import argparse
import io
import os
import re
import socket
import tarfile
from pathlib import Path

import pytest

from conftest import require
from fastarm.bench import dockerbase
from fastarm.bench.dockerbase import BaseImageError

BINFMT_OK = """enabled
interpreter /usr/bin/qemu-aarch64-static
flags: OCF
offset 0
magic 7f454c460201010000000000000000000200b700
mask ffffffffffffff00fffffffffffffffffeffffff
"""


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _escaped_to_bytes(escaped: str) -> bytes:
    return bytes(int(h, 16) for h in re.findall(r"\\x([0-9a-f]{2})", escaped))


# ------------------------------------------------------------------------------------------ names


@pytest.mark.parametrize(
    ("given", "arch"),
    [
        ("arm64", "arm64"),
        ("aarch64", "arm64"),
        ("linux/arm64", "arm64"),
        ("linux/arm64/v8", "arm64"),
        ("AMD64", "amd64"),
        ("x86_64", "amd64"),
        ("linux/amd64", "amd64"),
    ],
)
def test_normalize_arch(given: str, arch: str) -> None:
    assert dockerbase.normalize_arch(given) == arch


def test_normalize_arch_rejects_unknown() -> None:
    with pytest.raises(BaseImageError, match="unsupported architecture 'riscv64'"):
        dockerbase.normalize_arch("riscv64")


def test_base_tag() -> None:
    assert dockerbase.base_tag("aarch64") == "fastarm-base:bookworm-arm64"
    assert dockerbase.base_tag("linux/amd64") == "fastarm-base:bookworm-amd64"


def test_cache_dir_precedence(tmp_path: Path) -> None:
    env = {"FASTARM_CACHE": str(tmp_path / "a"), "XDG_CACHE_HOME": str(tmp_path / "x")}
    assert dockerbase.default_cache_dir(env) == tmp_path / "a"
    assert dockerbase.default_cache_dir({"XDG_CACHE_HOME": str(tmp_path / "x")}) == (
        tmp_path / "x" / "fastarm"
    )
    assert dockerbase.default_cache_dir({}) == Path("~/.cache/fastarm").expanduser()


# ----------------------------------------------------------------------------------------- mirror


def test_mirror_from_deb822_skips_security_and_disabled(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "etc/apt/sources.list.d/debian.sources",
        """Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm

Types: deb
URIs: http://off.example/debian
Suites: bookworm
Enabled: no

Types: deb
# a comment inside the stanza
URIs: http://mirror.example/debian/ http://second.example/debian
Suites: bookworm bookworm-updates
Components: main
""",
    )
    assert dockerbase.default_mirror(tmp_path) == "http://mirror.example/debian"


def test_mirror_from_legacy_sources_list(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "etc/apt/sources.list",
        "# comment\n"
        "deb http://security.debian.org/debian-security bookworm-security main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://ftp.example.org/debian bookworm main\n",
    )
    assert dockerbase.default_mirror(tmp_path) == "http://ftp.example.org/debian"


def test_mirror_ignores_other_distributions(tmp_path: Path) -> None:
    _write(tmp_path, "etc/apt/sources.list", "deb http://archive.ubuntu.com/ubuntu jammy main\n")
    assert dockerbase.default_mirror(tmp_path) == dockerbase.DEFAULT_MIRROR
    assert dockerbase.default_mirror(tmp_path / "empty") == dockerbase.DEFAULT_MIRROR


def test_mirror_of_this_host_is_a_debian_mirror() -> None:
    mirror = dockerbase.default_mirror()
    assert mirror.startswith(("http://", "https://"))
    assert not mirror.endswith("/")


# ----------------------------------------------------------------------------------------- binfmt


def test_binfmt_native_needs_nothing(tmp_path: Path) -> None:
    assert dockerbase.binfmt_problem("arm64", root=tmp_path, machine="aarch64") is None
    assert dockerbase.binfmt_problem("amd64", root=tmp_path, machine="x86_64") is None


def test_binfmt_missing_handler_prints_the_register_command(tmp_path: Path) -> None:
    problem = dockerbase.binfmt_problem("arm64", root=tmp_path, machine="x86_64")
    assert problem is not None
    assert "qemu-aarch64" in problem and "is missing" in problem
    assert "> /proc/sys/fs/binfmt_misc/register" in problem
    assert ":OCF'" in problem  # registered with the F flag
    assert "apt-get install -y qemu-user-static" in problem


def test_binfmt_disabled_and_missing_f_flag(tmp_path: Path) -> None:
    entry = "proc/sys/fs/binfmt_misc/qemu-aarch64"
    _write(tmp_path, entry, BINFMT_OK.replace("enabled", "disabled"))
    assert "disabled" in (dockerbase.binfmt_problem("arm64", root=tmp_path, machine="x86_64") or "")
    _write(tmp_path, entry, BINFMT_OK.replace("flags: OCF", "flags: OC"))
    problem = dockerbase.binfmt_problem("arm64", root=tmp_path, machine="x86_64")
    assert problem is not None and "lacks the F flag" in problem
    _write(tmp_path, entry, BINFMT_OK)
    assert dockerbase.binfmt_problem("arm64", root=tmp_path, machine="x86_64") is None


def test_binfmt_reverse_direction(tmp_path: Path) -> None:
    problem = dockerbase.binfmt_problem("amd64", root=tmp_path, machine="aarch64")
    assert problem is not None and "qemu-x86_64" in problem


def test_emulation_help_on_docker_desktop() -> None:
    text = dockerbase.emulation_help("amd64", system="Darwin")
    assert "Docker Desktop" in text and "nothing to register" in text


def test_register_command_matches_the_kernel_entry() -> None:
    """The magic/mask we print are the ones the installed qemu-user-static registered."""
    entry = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")
    require("emulation", entry.exists(), f"{entry} is not registered")
    kernel = entry.read_text()
    magic = re.search(r"^magic (\w+)", kernel, re.MULTILINE)
    mask = re.search(r"^mask (\w+)", kernel, re.MULTILINE)
    assert magic and mask
    command = dockerbase.register_command("arm64")
    fields = command.splitlines()[-1].split(":")
    assert _escaped_to_bytes(fields[4]) == bytes.fromhex(magic.group(1))
    assert _escaped_to_bytes(fields[5]) == bytes.fromhex(mask.group(1))
    assert "F" in fields[7]


def test_this_host_can_run_arm64() -> None:
    problem = dockerbase.binfmt_problem("arm64")
    require("emulation", problem is None, problem or "")


# ---------------------------------------------------------------------------------------- packing


def _tiny_tree(root: Path) -> Path:
    _write(root, "usr/bin/hello", "#!/bin/sh\necho hi\n")
    _write(root, "etc/owned", "owned by 4242\n")
    _write(root, "var/cache/apt/archives/python3_3.11.deb", "x" * 100)
    _write(root, "var/lib/apt/lists/deb.debian.org_bookworm_InRelease", "x")
    _write(root, "proc/cpuinfo", "not a real proc")
    _write(root, "debootstrap/debootstrap.log", "log")
    (root / "dev").mkdir()
    if os.geteuid() == 0:
        os.mknod(root / "dev/null", 0o666 | 0o020000, os.makedev(1, 3))
        os.chown(root / "etc/owned", 4242, 4242)
    (root / "usr/bin/python3").symlink_to("hello")
    return root


def test_pack_rootfs_drops_devices_and_caches(tmp_path: Path) -> None:
    tree = _tiny_tree(tmp_path / "tree")
    tarball = tmp_path / "cache" / "rootfs.tar"
    lines: list[str] = []
    dockerbase.pack_rootfs(tree, tarball, lines.append)
    with tarfile.open(tarball) as tar:
        names = {m.name.lstrip("./") for m in tar.getmembers()}
        owned = tar.getmember("./etc/owned")
        link = tar.getmember("./usr/bin/python3")
    assert "usr/bin/hello" in names and link.issym()
    assert "dev" in names and "dev/null" not in names
    assert "var/cache/apt/archives/python3_3.11.deb" not in names
    assert not any(n.startswith("var/lib/apt/lists/") for n in names)
    assert "proc/cpuinfo" not in names and not any(n.startswith("debootstrap") for n in names)
    if os.geteuid() == 0:
        assert (owned.uid, owned.gid) == (4242, 4242)
    assert sorted(p.name for p in tarball.parent.iterdir() if p.suffix == ".part") == []
    assert oct(tarball.stat().st_mode & 0o777) == "0o644"


def test_pack_rootfs_refuses_a_non_rootfs(tmp_path: Path) -> None:
    with pytest.raises(BaseImageError, match="does not look like a root file system"):
        dockerbase.pack_rootfs(tmp_path, tmp_path / "out.tar", print)
    assert not (tmp_path / "out.tar").exists()


def test_build_context_is_a_valid_tar(tmp_path: Path) -> None:
    payload = tmp_path / "rootfs.tar"
    payload.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    stream = b"".join(dockerbase.build_context("FROM scratch\n", payload, chunk=4096))
    with tarfile.open(fileobj=io.BytesIO(stream)) as tar:
        assert tar.getnames() == ["Dockerfile", "rootfs.tar"]
        dockerfile = tar.extractfile("Dockerfile")
        rootfs = tar.extractfile("rootfs.tar")
        assert dockerfile is not None and rootfs is not None
        assert dockerfile.read() == b"FROM scratch\n"
        assert rootfs.read() == payload.read_bytes()


# -------------------------------------------------------------------------------------------- CLI


def test_cli_rejects_one_tag_for_two_arches(capsys: pytest.CaptureFixture[str]) -> None:
    code = dockerbase.main(["--arch", "amd64", "--arch", "arm64", "--tag", "x:y"])
    assert code == 4
    assert "--tag names one image" in capsys.readouterr().err


def test_cli_unknown_arch(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = dockerbase.main(["--arch", "sparc", "--cache-dir", str(tmp_path)])
    assert code == 4
    assert "unsupported architecture 'sparc'" in capsys.readouterr().err


def test_add_arguments_defaults() -> None:
    parser = argparse.ArgumentParser()
    dockerbase.add_arguments(parser)
    args = parser.parse_args(["--arch", "arm64"])
    assert args.arch == ["arm64"] and not args.force and args.rootfs is None


# ------------------------------------------------------------------------------- against the engine


def _client() -> object:
    try:
        import docker

        client = docker.from_env()
        client.ping()
    except Exception as exc:  # ImportError, DockerException, connection errors
        require("docker", False, f"no Docker engine reachable: {exc}")
        raise
    return client


def _export_rootfs(client: object, image: str, dest: Path) -> None:
    """A real Debian rootfs tarball, taken from an existing base image."""
    container = client.containers.create(image, ["true"])  # type: ignore[attr-defined]
    try:
        with open(dest, "wb") as f:
            for chunk in container.export():
                f.write(chunk)
    finally:
        container.remove(force=True)


@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_build_base_from_cached_tarball(tmp_path: Path, arch: str) -> None:
    """Second call path: the cached tarball is imported, debootstrap never runs (its mirror is
    unreachable here), the image is labelled with the real architecture and runs as it."""
    client = _client()
    source = dockerbase.base_tag(arch)
    import docker

    try:
        client.images.get(source)  # type: ignore[attr-defined]
    except docker.errors.ImageNotFound:
        name = "arm64-image" if arch == "arm64" else "docker"
        require(name, False, f"{source} missing: invoke docker.base --arch {arch}")
    if arch != dockerbase.host_arch():
        require("emulation", dockerbase.binfmt_problem(arch) is None, f"{arch} cannot run here")
    _export_rootfs(client, source, tmp_path / f"rootfs-{dockerbase.SUITE}-{arch}.tar")
    tag = f"docker-dev-test-base:{arch}-{os.getpid()}"
    lines: list[str] = []
    try:
        built = dockerbase.build_base(
            arch,
            mirror="http://127.0.0.1:9/debian",
            cache_dir=tmp_path,
            tag=tag,
            client=client,
            log=lines.append,
        )
        assert built.reused_tarball
        assert built.machine == dockerbase.ARCHES[arch][0]
        assert not any(line.startswith("$ debootstrap") for line in lines)
        image = client.images.get(tag)  # type: ignore[attr-defined]
        assert image.id == built.image_id
        assert image.attrs["Architecture"] == arch
        labels = image.attrs["Config"]["Labels"]
        assert labels["io.fastarm.base.arch"] == arch
        assert labels["io.fastarm.base.mirror"] == "http://127.0.0.1:9/debian"
    finally:
        client.images.remove(tag, force=True)  # type: ignore[attr-defined]


def test_installed_base_images_are_what_they_say() -> None:
    """The images CI built run python3 with NumPy and gcc on the architecture of their label."""
    client = _client()
    import docker

    for arch in ("amd64", "arm64"):
        tag = dockerbase.base_tag(arch)
        try:
            image = client.images.get(tag)  # type: ignore[attr-defined]
        except docker.errors.ImageNotFound:
            require("arm64-image" if arch == "arm64" else "docker", False, f"{tag} missing")
            continue
        assert image.attrs["Architecture"] == arch
        assert dockerbase.probe_machine(client, tag, arch) == dockerbase.ARCHES[arch][0]


def test_unreachable_daemon_fails_before_bootstrapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No minutes of debootstrap for an image that could not be imported anyway."""
    try:
        import docker  # noqa: F401
    except ImportError:
        require("docker", False, "the docker SDK is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        host = f"tcp://127.0.0.1:{s.getsockname()[1]}"  # closed again: connection refused
    monkeypatch.setenv("DOCKER_HOST", host)
    code = dockerbase.main(["--arch", "amd64", "--cache-dir", str(tmp_path)])
    assert code == 4
    assert f"cannot reach the Docker daemon at DOCKER_HOST={host}" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
