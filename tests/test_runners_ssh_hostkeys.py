"""The SSH runner's host-key policy without a server: fingerprints as ssh prints them, and how
known_hosts is read and extended.  (Refusals by a real server are in ``test_runners_ssh.py``.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import sshd
from conftest import require

paramiko = pytest.importorskip("paramiko", reason="needs paramiko (pip install 'fastarm[vm]')")

from fastarm.bench.runners._ssh_hostkeys import (  # noqa: E402
    KnownHosts,
    KnownHostsPolicy,
    UnknownHostKey,
    fingerprint,
)


def _key(tmp_path: Path, name: str = "hk") -> paramiko.PKey:
    require("ssh", sshd.sshd_available(), "needs ssh-keygen (openssh-client)")
    return paramiko.Ed25519Key.from_private_key_file(str(sshd.keygen(tmp_path / name)))


def test_fingerprint_matches_ssh_keygen(tmp_path: Path) -> None:
    key = _key(tmp_path)
    printed = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(tmp_path / "hk.pub")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[1]
    assert fingerprint(key) == printed


def test_accepted_key_is_appended_hashed_when_the_config_says_so(tmp_path: Path) -> None:
    key = _key(tmp_path)
    known = tmp_path / "sub" / "known_hosts"
    hosts = KnownHosts.from_ssh_config(
        {"userknownhostsfile": str(known), "hashknownhosts": "yes"}, None
    )
    hosts.append("[10.0.0.7]:2222", key)
    text = known.read_text()
    assert text.startswith("|1|") and "10.0.0.7" not in text
    assert oct(known.stat().st_mode & 0o777) == "0o600"
    assert paramiko.HostKeys(str(known)).lookup("[10.0.0.7]:2222")["ssh-ed25519"] == key


def test_append_keeps_existing_lines(tmp_path: Path) -> None:
    key = _key(tmp_path)
    known = tmp_path / "known_hosts"
    known.write_text("# a comment without a final newline")
    KnownHosts.from_ssh_config({}, str(known)).append("h.example", key)
    lines = known.read_text().splitlines()
    assert lines[0] == "# a comment without a final newline"
    assert lines[1].startswith("h.example ssh-ed25519 ")


def test_known_hosts_dev_null_falls_back_to_a_real_file() -> None:
    # Lima and friends write `UserKnownHostsFile /dev/null`: an accepted key must still be kept
    hosts = KnownHosts.from_ssh_config({"userknownhostsfile": "/dev/null"}, None)
    assert hosts.user_file == Path("~/.ssh/known_hosts").expanduser()
    hosts = KnownHosts.from_ssh_config({"userknownhostsfile": "/dev/null ~/.ssh/kh2"}, None)
    assert hosts.user_file == Path("~/.ssh/kh2").expanduser()
    assert hosts.global_files == [Path("/etc/ssh/ssh_known_hosts")]


def test_policy_refuses_unless_asked_and_then_says_so(tmp_path: Path) -> None:
    key = _key(tmp_path)
    known = tmp_path / "known_hosts"
    hosts = KnownHosts.from_ssh_config({}, str(known))
    client = paramiko.SSHClient()
    with pytest.raises(UnknownHostKey) as info:
        KnownHostsPolicy(hosts).missing_host_key(client, "[h]:22", key)
    assert info.value.key == key and not known.exists()
    notes: list[str] = []
    KnownHostsPolicy(hosts, accept_new=True, note=notes.append).missing_host_key(
        client, "[h]:22", key
    )
    assert known.read_text().startswith("[h]:22 ssh-ed25519 ")
    assert client.get_host_keys().lookup("[h]:22")["ssh-ed25519"] == key
    assert fingerprint(key) in notes[0] and str(known) in notes[0]
