"""Opening the SSH connection: Fabric for config resolution, our host-key policy, readable errors.

Fabric's ``Connection`` resolves the target the way ``ssh`` does from ``~/.ssh/config`` (or the
file given with ``--ssh-config``): ``HostName``, ``User``, ``Port``, ``IdentityFile``,
``ProxyJump`` / ``ProxyCommand``.  Every failure Paramiko can raise while connecting is turned into
one :class:`~fastarm.bench.runners.RunnerError` whose message says what happened and what to try.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass
from typing import Any, Optional

from . import RunnerError

INSTALL_HINT = "the SSH runner needs Fabric; install it with: pip install 'fastarm[vm]'"


@dataclass(frozen=True)
class ConnectOptions:
    host: str  # as the user gave it: alias, host, user@host, user@host:port
    ssh_config: Optional[str] = None
    identity: Optional[str] = None
    known_hosts: Optional[str] = None
    accept_new_host_key: bool = False
    connect_timeout: float = 15.0


def _import_fabric() -> Any:
    try:
        import fabric
        import paramiko  # noqa: F401 - a dependency of Fabric; imported here to fail early
    except ModuleNotFoundError as exc:
        raise RunnerError(f"{INSTALL_HINT} (missing module {exc.name!r})") from None
    return fabric


def make_connection(options: ConnectOptions) -> Any:
    """A configured, not yet opened ``fabric.Connection`` under the strict host-key policy."""
    fabric = _import_fabric()
    from ._ssh_hostkeys import secure

    if not options.host or options.host.startswith("-"):
        raise RunnerError(f"--vm needs a host name or SSH alias, got {options.host!r}")
    try:
        config = fabric.Config(runtime_ssh_path=options.ssh_config) if options.ssh_config else None
        connect_kwargs: dict[str, Any] = {
            "banner_timeout": options.connect_timeout,
            "auth_timeout": options.connect_timeout,
        }
        if options.identity:
            connect_kwargs["key_filename"] = [options.identity]
        conn = fabric.Connection(
            options.host,
            config=config,
            connect_timeout=max(1, round(options.connect_timeout)),
            connect_kwargs=connect_kwargs,
        )
    except FileNotFoundError as exc:
        raise RunnerError(f"SSH config file not found: {exc.filename}") from None
    except ValueError as exc:  # e.g. a non-numeric port in user@host:port
        raise RunnerError(f"cannot parse SSH target {options.host!r}: {exc}") from None
    secure(conn, options.known_hosts, options.accept_new_host_key)
    return conn


def target_label(conn: Any) -> str:
    return f"{conn.user}@{conn.host}:{conn.port}"


def describe_connect_error(exc: BaseException, conn: Any, options: ConnectOptions) -> str:
    """One message for the user per way connecting can fail."""
    import paramiko

    from ._ssh_hostkeys import UnknownHostKey, fingerprint, key_type_label

    where = target_label(conn)
    alias = f"{options.host!r} -> {where}" if options.host != conn.host else where
    if isinstance(exc, UnknownHostKey):
        key = exc.key
        return (
            f"refusing to connect to {alias}: its host key is not in known_hosts "
            f"({exc.known_hosts}).\n"
            f"  {key_type_label(key)} key fingerprint is {fingerprint(key)}\n"
            "Check that fingerprint with the machine's owner (on the host: "
            "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then rerun with "
            "--accept-new-host-key to add it (or connect once with ssh)."
        )
    if isinstance(exc, paramiko.BadHostKeyException):
        return (
            f"WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for {alias}!\n"
            f"  the server offered {key_type_label(exc.key)} {fingerprint(exc.key)}\n"
            f"  known_hosts expects {key_type_label(exc.expected_key)} "
            f"{fingerprint(exc.expected_key)}\n"
            "Someone could be intercepting the connection, or the host was reinstalled. "
            "Refusing to connect; --accept-new-host-key never overrides a changed key. "
            "If the change is legitimate, remove the old entry with: "
            f"ssh-keygen -R '{exc.hostname}'"
            + (f" -f {options.known_hosts}" if options.known_hosts else "")
        )
    if isinstance(exc, paramiko.AuthenticationException) or (
        isinstance(exc, paramiko.SSHException) and "authentication methods" in str(exc)
    ):
        identity = (
            options.identity or conn.connect_kwargs.get("key_filename") or "default keys / agent"
        )
        return (
            f"authentication failed for {alias}: the server accepted none of the offered keys "
            f"({identity}). Check User/IdentityFile in your SSH config, --identity, or ssh-agent; "
            "password logins are not supported."
        )
    if isinstance(exc, socket.gaierror):
        reason = exc.strerror or exc
        return f"cannot resolve host name {conn.host!r} (from --vm {options.host!r}): {reason}"
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
        codes = {getattr(e, "errno", None) for e in exc.errors.values()}
        if codes <= {errno.ECONNREFUSED}:
            return (
                f"connection refused by {where}: no SSH server listens on port {conn.port} "
                "(is sshd running, and is this the right port?)"
            )
        return f"cannot connect to {where}: {exc}"
    if isinstance(exc, (socket.timeout, TimeoutError)) or (
        isinstance(exc, paramiko.SSHException) and "protocol banner" in str(exc)
    ):
        return (
            f"timed out connecting to {alias} after {options.connect_timeout:g} s "
            "(no SSH greeting: host down, firewalled, or not an SSH server on that port); "
            "raise --connect-timeout for slow links"
        )
    if isinstance(exc, FileNotFoundError):
        return f"cannot connect to {alias}: file not found: {exc.filename}"
    return f"SSH connection to {alias} failed: {type(exc).__name__}: {exc}"


def open_connection(options: ConnectOptions) -> Any:
    """Make and open the connection; any failure becomes a RunnerError with a clear message."""
    import paramiko

    conn = make_connection(options)
    try:
        conn.open()
    except (paramiko.SSHException, OSError, EOFError) as exc:
        conn.close()
        raise RunnerError(describe_connect_error(exc, conn, options)) from None
    return conn
