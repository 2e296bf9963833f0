"""A real OpenSSH server for tests: generated keys, loopback only, stopped at teardown.

``start_sshd`` runs ``/usr/sbin/sshd -D`` on a free 127.0.0.1 port with a fresh ed25519 host key, a
fresh user key in ``AuthorizedKeysFile``, no passwords, and writes a client-side SSH config with a
host alias, the identity file and a temporary known_hosts that already trusts the host key.
``sshd_config_text`` / ``wait_for_banner`` are shared with the sshd-in-an-arm64-container fixture.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
SFTP_SERVER_CANDIDATES = ("/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server")


def sshd_available() -> bool:
    return (
        os.path.isfile(SSHD) and os.access(SSHD, os.X_OK) and shutil.which("ssh-keygen") is not None
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def keygen(path: Path, comment: str = "fastarm-test") -> Path:
    """A fresh ed25519 key pair at ``path`` / ``path.pub`` (via ssh-keygen); returns ``path``."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
    )
    return path


def public_key_blob(pub_path: Path) -> str:
    """``keytype base64`` of an OpenSSH ``.pub`` file (without the comment)."""
    keytype, blob = pub_path.read_text().split()[:2]
    return f"{keytype} {blob}"


def sshd_config_text(
    *, port: int, listen: str, keydir: str, sftp_server: str, log_level: str = "VERBOSE"
) -> str:
    """sshd_config for a throwaway server: key auth only, root allowed (loopback/container only)."""
    return "\n".join(
        [
            f"Port {port}",
            f"ListenAddress {listen}",
            f"HostKey {keydir}/host_key",
            f"PidFile {keydir}/sshd.pid",
            f"AuthorizedKeysFile {keydir}/authorized_keys",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin yes",
            "UsePAM no",
            "StrictModes no",
            "UseDNS no",
            "PrintMotd no",
            f"Subsystem sftp {sftp_server}",
            f"LogLevel {log_level}",
            "",
        ]
    )


def client_config_text(
    *,
    alias: str,
    port: int,
    user: str,
    identity: Path,
    known_hosts: Path,
    hostname: str = "127.0.0.1",
) -> str:
    return "\n".join(
        [
            f"Host {alias}",
            f"    HostName {hostname}",
            f"    Port {port}",
            f"    User {user}",
            f"    IdentityFile {identity}",
            f"    UserKnownHostsFile {known_hosts}",
            "",
        ]
    )


def wait_for_banner(port: int, timeout: float, host: str = "127.0.0.1") -> str:
    """Poll until the port answers with an SSH banner; returns it.  Raises TimeoutError."""
    deadline = time.monotonic() + timeout
    last: Optional[BaseException] = None
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=2) as sock:
                sock.settimeout(max(1.0, min(10.0, deadline - time.monotonic())))
                banner = sock.recv(256).decode("ascii", "replace")
                if banner.startswith("SSH-"):
                    return banner.strip()
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise TimeoutError(f"no SSH banner on {host}:{port} within {timeout}s (last error: {last})")


@dataclass
class SshServer:
    """A running test sshd and the client-side files that reach it."""

    directory: Path
    port: int
    alias: str
    user: str
    user_key: Path
    host_key: Path
    known_hosts: Path
    ssh_config: Path
    log: Path
    process: Optional[subprocess.Popen[bytes]] = None

    @property
    def host_entry(self) -> str:
        return f"[127.0.0.1]:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


def write_client_files(
    directory: Path, *, alias: str, port: int, user: str, host_pub: Path
) -> tuple[Path, Path, Path]:
    """User key, known_hosts trusting ``host_pub`` for ``[127.0.0.1]:port``, and an SSH config."""
    user_key = keygen(directory / "user_key")
    known_hosts = directory / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {public_key_blob(host_pub)}\n")
    ssh_config = directory / "ssh_config"
    ssh_config.write_text(
        client_config_text(
            alias=alias, port=port, user=user, identity=user_key, known_hosts=known_hosts
        )
    )
    return user_key, known_hosts, ssh_config


def start_sshd(directory: Path, alias: str = "fastarm-test-host") -> SshServer:
    """Start a real sshd on a free loopback port; the caller must ``stop()`` it."""
    directory.mkdir(parents=True, exist_ok=True)
    keydir = directory / "server"
    keydir.mkdir()
    host_key = keygen(keydir / "host_key", "fastarm-test-host")
    port = free_port()
    user = getpass.getuser()
    user_key, known_hosts, ssh_config = write_client_files(
        directory, alias=alias, port=port, user=user, host_pub=keydir / "host_key.pub"
    )
    shutil.copy(directory / "user_key.pub", keydir / "authorized_keys")
    sftp = next((p for p in SFTP_SERVER_CANDIDATES if os.path.exists(p)), "internal-sftp")
    config = keydir / "sshd_config"
    config.write_text(
        sshd_config_text(port=port, listen="127.0.0.1", keydir=str(keydir), sftp_server=sftp)
    )
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege-separation directory
    log = directory / "sshd.log"
    server = SshServer(
        directory=directory,
        port=port,
        alias=alias,
        user=user,
        user_key=user_key,
        host_key=host_key,
        known_hosts=known_hosts,
        ssh_config=ssh_config,
        log=log,
    )
    server.process = subprocess.Popen([SSHD, "-D", "-f", str(config), "-E", str(log)])
    try:
        wait_for_banner(port, timeout=20)
    except BaseException:
        server.stop()
        raise RuntimeError(f"sshd did not start; log:\n{server.log_text()}") from None
    return server


@dataclass
class ContainerSshd:
    """sshd running in a Docker container, port 22 published on a free 127.0.0.1 port."""

    server: SshServer
    container: object

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.container.remove(force=True)  # type: ignore[attr-defined]


def start_container_sshd(
    client: object,
    image: str,
    directory: Path,
    *,
    name: str,
    alias: str = "fastarm-container-host",
    banner_timeout: float = 180.0,
) -> ContainerSshd:
    """Start ``/usr/sbin/sshd -D`` in ``image`` with keys generated here and bind-mounted read-only
    at ``/fastarm-ssh``; returns once the published port answers with an SSH banner."""
    directory.mkdir(parents=True, exist_ok=True)
    keydir = directory / "server"
    keydir.mkdir()
    host_key = keygen(keydir / "host_key", "fastarm-container-host")
    port = free_port()
    user_key, known_hosts, ssh_config = write_client_files(
        directory, alias=alias, port=port, user="root", host_pub=keydir / "host_key.pub"
    )
    shutil.copy(directory / "user_key.pub", keydir / "authorized_keys")
    (keydir / "sshd_config").write_text(
        sshd_config_text(
            port=22,
            listen="0.0.0.0",
            keydir="/fastarm-ssh",
            sftp_server="/usr/lib/openssh/sftp-server",
        ).replace("PidFile /fastarm-ssh/sshd.pid", "PidFile /run/sshd.pid")
    )
    server = SshServer(
        directory=directory,
        port=port,
        alias=alias,
        user="root",
        user_key=user_key,
        host_key=host_key,
        known_hosts=known_hosts,
        ssh_config=ssh_config,
        log=directory / "sshd.log",
    )
    container = client.containers.run(  # type: ignore[attr-defined]
        image,
        [
            "/bin/sh",
            "-c",
            "mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e -f /fastarm-ssh/sshd_config",
        ],
        name=name,
        detach=True,
        ports={"22/tcp": ("127.0.0.1", port)},
        volumes={str(keydir): {"bind": "/fastarm-ssh", "mode": "ro"}},
        labels={"io.fastarm.test": "sshd"},
    )
    running = ContainerSshd(server, container)
    try:
        wait_for_banner(port, timeout=banner_timeout)
    except BaseException:
        logs = ""
        with contextlib.suppress(Exception):
            logs = container.logs().decode(errors="replace")
        running.stop()
        raise RuntimeError(f"sshd in {image} did not start; its log:\n{logs}") from None
    return running
