"""Readers and parsers under a root directory."""

from __future__ import annotations

from pathlib import Path

from fastarm.bench.env.sources import (
    exists,
    parse_cpuinfo,
    parse_os_release,
    read_link,
    read_nul_list,
    read_sysctl,
    read_text,
    read_value,
)


def test_missing_and_unreadable_files_are_none(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    assert read_text(tmp_path, "/nope") is None
    assert read_text(tmp_path, "/dir") is None  # a directory is not a file
    assert read_value(tmp_path, "/nope") is None
    assert read_nul_list(tmp_path, "/nope") == []
    assert read_link(tmp_path, "/proc/self/exe") is None


def test_values_are_stripped_and_empty_is_none(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("  QEMU\n")
    (tmp_path / "b").write_text("\n")
    (tmp_path / "c").write_bytes(b"linux,dummy-virt\x00")
    assert read_value(tmp_path, "/a") == "QEMU"
    assert read_value(tmp_path, "/b") is None
    assert read_value(tmp_path, "/c") == "linux,dummy-virt"


def test_undecodable_bytes_do_not_raise(tmp_path: Path) -> None:
    (tmp_path / "x").write_bytes(b"\xff\xfeabc")
    assert read_text(tmp_path, "/x") is not None


def test_exists_counts_dangling_symlinks(tmp_path: Path) -> None:
    (tmp_path / ".dockerenv").symlink_to(tmp_path / "gone")
    assert exists(tmp_path, "/.dockerenv")
    assert not exists(tmp_path, "/run/.containerenv")


def test_read_link_prefers_the_real_link(tmp_path: Path) -> None:
    (tmp_path / "proc" / "1").mkdir(parents=True)
    (tmp_path / "proc" / "1" / "exe").symlink_to("/usr/bin/qemu-aarch64-static")
    (tmp_path / "proc" / "1" / "exe.link").write_text("/recorded\n")
    assert read_link(tmp_path, "/proc/1/exe") == "/usr/bin/qemu-aarch64-static"
    (tmp_path / "proc" / "1" / "exe").unlink()
    assert read_link(tmp_path, "/proc/1/exe") == "/recorded"


def test_parse_cpuinfo_keeps_the_first_block_and_counts() -> None:
    text = (
        "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu sse avx2\n\n"
        "processor\t: 1\nvendor_id\t: OtherVendor\nflags\t\t: fpu\n"
    )
    cpu = parse_cpuinfo(text)
    assert cpu.processors == 2
    assert cpu.get("vendor_id") == "GenuineIntel"
    assert cpu.flags == ["fpu", "sse", "avx2"]
    arm = parse_cpuinfo("processor\t: 0\nFeatures\t: fp asimd\nCPU implementer\t: 0x41\n")
    assert arm.flags == ["fp", "asimd"]
    assert parse_cpuinfo(None).processors == 0
    assert parse_cpuinfo("").get("model name") is None


def test_parse_os_release_quotes_and_comments() -> None:
    info = parse_os_release(
        "# comment\nNAME=\"Debian GNU/Linux\"\nID=debian\nPRETTY_NAME='X Y'\nbad\n"
    )
    assert info == {"NAME": "Debian GNU/Linux", "ID": "debian", "PRETTY_NAME": "X Y"}


def test_read_sysctl_is_empty_off_macos() -> None:
    import platform

    if platform.system() != "Darwin":
        assert read_sysctl() == {}
    else:  # on a Mac the values are real; proc_translated exists on every Apple-silicon macOS
        assert read_sysctl().get("hw.model")
