"""Host-key policy for the SSH runner: known_hosts only, new keys only on explicit request.

Fabric's ``Connection`` accepts any host key by default (Paramiko's ``AutoAddPolicy``) and loads no
known_hosts file.  The runner replaces that with OpenSSH's ``StrictHostKeyChecking`` behaviour:

- a host whose key is in known_hosts and matches: accepted;
- a host whose key differs from the recorded one: refused (Paramiko raises ``BadHostKeyException``
  before any policy is asked, so no flag can accept it);
- a host with no recorded key: refused with its SHA256 fingerprint, as ``ssh`` prints it, unless the
  user passed ``--accept-new-host-key``; then the key is appended to the user's known_hosts file
  (hashed when the SSH config says ``HashKnownHosts yes``) and a note goes to stderr.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import paramiko

DEFAULT_USER_KNOWN_HOSTS = "~/.ssh/known_hosts"
DEFAULT_GLOBAL_KNOWN_HOSTS = "/etc/ssh/ssh_known_hosts"


def fingerprint(key: paramiko.PKey) -> str:
    """SHA256 fingerprint of a public key, formatted as OpenSSH prints it (``SHA256:base64``)."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def key_type_label(key: paramiko.PKey) -> str:
    """Short key-type label as OpenSSH prints it (``ED25519``, ``ECDSA``, ``RSA``)."""
    name = key.get_name()
    for prefix, label in (("ssh-ed25519", "ED25519"), ("ecdsa-", "ECDSA"), ("ssh-rsa", "RSA")):
        if name.startswith(prefix):
            return label
    return name


class UnknownHostKey(paramiko.SSHException):
    """The server's host key is not in any known_hosts file."""

    def __init__(self, host_entry: str, key: paramiko.PKey, known_hosts: Path) -> None:
        self.host_entry = host_entry
        self.key = key
        self.known_hosts = known_hosts
        super().__init__(f"unknown host key for {host_entry}: {fingerprint(key)}")


def _split_paths(value: Any) -> list[str]:
    if value is None:
        return []
    items = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
    return [part for item in items for part in item.split()]


@dataclass
class KnownHosts:
    """Which known_hosts files to read, which one to append to, and how to write entries."""

    user_file: Path
    read_files: list[Path] = field(default_factory=list)
    global_files: list[Path] = field(default_factory=list)
    hash_hosts: bool = False

    @classmethod
    def from_ssh_config(
        cls, host_config: dict[str, Any], override: Optional[str] = None
    ) -> KnownHosts:
        """Resolve the files from an explicit path or the host's SSH config (``UserKnownHostsFile``,
        ``GlobalKnownHostsFile``, ``HashKnownHosts``), with OpenSSH's defaults otherwise."""
        # ``/dev/null`` (how some VM managers switch host-key checking off) cannot remember a key:
        # the default file is used instead, so an accepted key is kept and checked next time.
        if override:
            user_files = [override]
        else:
            user_files = [
                p for p in _split_paths(host_config.get("userknownhostsfile")) if p != "/dev/null"
            ] or [DEFAULT_USER_KNOWN_HOSTS]
        global_files = _split_paths(host_config.get("globalknownhostsfile")) or [
            DEFAULT_GLOBAL_KNOWN_HOSTS
        ]
        user_paths = [Path(os.path.expanduser(p)) for p in user_files]
        hash_hosts = str(host_config.get("hashknownhosts", "no")).lower() == "yes"
        return cls(
            user_file=user_paths[0],
            read_files=user_paths,
            global_files=[Path(os.path.expanduser(p)) for p in global_files],
            hash_hosts=hash_hosts,
        )

    def load_into(self, client: paramiko.SSHClient) -> None:
        """Load every readable file into the client (global files as read-only system keys)."""
        for path in self.global_files:
            if path.is_file():
                client.load_system_host_keys(str(path))
        for path in self.read_files:
            if path.is_file():
                # load_system_host_keys: read only; Paramiko must never rewrite the user's file.
                client.load_system_host_keys(str(path))

    def append(self, host_entry: str, key: paramiko.PKey) -> None:
        """Append one ``host keytype base64`` line, creating the file (0600, dir 0700) if needed."""
        self.user_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = paramiko.HostKeys.hash_host(host_entry) if self.hash_hosts else host_entry
        line = f"{name} {key.get_name()} {key.get_base64()}\n"
        needs_newline = False
        if self.user_file.is_file() and self.user_file.stat().st_size > 0:
            with open(self.user_file, "rb") as fh:
                fh.seek(-1, os.SEEK_END)
                needs_newline = fh.read(1) != b"\n"
        fd = os.open(self.user_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="ascii") as fh:
            fh.write(("\n" if needs_newline else "") + line)


class KnownHostsPolicy(paramiko.MissingHostKeyPolicy):
    """Refuse unknown hosts (raising ``UnknownHostKey``) unless ``accept_new`` is set."""

    def __init__(
        self,
        known_hosts: KnownHosts,
        accept_new: bool = False,
        note: Optional[Callable[[str], None]] = None,
    ) -> None:
        self.known_hosts = known_hosts
        self.accept_new = accept_new
        self.note = note or (lambda msg: print(msg, file=sys.stderr))

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        if not self.accept_new:
            raise UnknownHostKey(hostname, key, self.known_hosts.user_file)
        self.known_hosts.append(hostname, key)
        client.get_host_keys().add(hostname, key.get_name(), key)
        self.note(
            f"fastarm: added {key_type_label(key)} host key {fingerprint(key)} for {hostname} "
            f"to {self.known_hosts.user_file} (--accept-new-host-key)"
        )


def secure(connection: Any, override: Optional[str], accept_new: bool) -> KnownHosts:
    """Install the policy and known hosts on a Fabric connection and on every ``ProxyJump`` gateway
    it goes through (each hop with the known_hosts settings of its own SSH config entry).
    Returns the settings of the target host."""
    target = KnownHosts.from_ssh_config(dict(connection.ssh_config), override)
    seen: set[int] = set()
    conn = connection
    while conn is not None and not isinstance(conn, (str, bool)) and id(conn) not in seen:
        seen.add(id(conn))
        hop = (
            target
            if conn is connection
            else KnownHosts.from_ssh_config(dict(conn.ssh_config), override)
        )
        hop.load_into(conn.client)
        conn.client.set_missing_host_key_policy(KnownHostsPolicy(hop, accept_new))
        conn = getattr(conn, "gateway", None)
    return target
