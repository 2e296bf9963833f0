"""Recording an environment tree: what is kept reproduces detection, nothing private is kept."""

from __future__ import annotations

import json
from pathlib import Path

from fastarm.bench.env.record import main, record
from fastarm.bench.environment import detect_layers


def _facts(dest: Path) -> dict[str, object]:
    facts = json.loads((dest / "facts.json").read_text())
    return {k: facts[k] for k in ("uname_machine", "platform_system", "sysctl")}


def test_recording_this_machine_reproduces_its_layers(tmp_path: Path) -> None:
    dest = tmp_path / "rec"
    record(dest, source="test")
    assert detect_layers(dest / "root", **_facts(dest)) == detect_layers()


def test_recording_a_tree_keeps_only_what_detection_reads(tmp_path: Path) -> None:
    src = tmp_path / "src"
    files = {
        "proc/1/environ": "SECRET_TOKEN=hunter2\x00container=podman\x00HOME=/root\x00",
        "proc/self/mountinfo": (
            "750 680 0:61 / / rw - overlay overlay "
            "rw,lowerdir=/var/lib/containers/storage/overlay/l/A\n"
            "751 750 0:62 /home/alice/private /data rw - ext4 /dev/sda1 rw\n"
        ),
        "run/.containerenv": 'engine="podman-4.9.3"\n',
        "proc/device-tree/compatible": "linux,dummy-virt\x00",
        "proc/device-tree/fw-cfg@9020000/compatible": "qemu,fw-cfg-mmio\x00",
        "home/alice/notes.txt": "not recorded",
    }
    for path, text in files.items():
        (src / path).parent.mkdir(parents=True, exist_ok=True)
        (src / path).write_text(text)
    (src / "proc/1/exe").symlink_to("/usr/bin/qemu-aarch64-static")
    dest = tmp_path / "rec"
    written = record(dest, src, source="unit test")
    root = dest / "root"
    assert (root / "proc/1/environ").read_text() == "container=podman\x00"
    assert "/home/alice" not in (root / "proc/self/mountinfo").read_text()
    assert (root / "proc/1/exe.link").read_text().strip() == "/usr/bin/qemu-aarch64-static"
    assert not (root / "home").exists()
    assert "/proc/device-tree/fw-cfg@9020000/compatible" in written
    layers = detect_layers(root, uname_machine="aarch64", platform_system="Linux")
    assert [(layer.type, layer.name) for layer in layers] == [
        ("vm", "qemu"),
        ("container", "podman"),
        ("emulated", "qemu-user"),
    ]
    assert json.loads((dest / "facts.json").read_text())["source"] == "unit test"


def test_command_line_refuses_a_non_empty_destination(tmp_path: Path, capsys) -> None:
    (tmp_path / "x").write_text("keep me")
    try:
        main([str(tmp_path)])
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("expected a usage error")
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "x").read_text() == "keep me"
    assert main([str(tmp_path / "new")]) == 0
    assert (tmp_path / "new" / "facts.json").exists()
