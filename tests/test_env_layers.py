"""Layer detection over recorded environment trees, and each signal on its own."""

from __future__ import annotations

from pathlib import Path

import pytest

import envfixtures
from fastarm.bench.env import layers as L
from fastarm.bench.env.sources import parse_cpuinfo
from fastarm.bench.environment import Layer, detect_layers, kind_of

HYP = "cpuinfo flags: hypervisor"
KVMCLOCK = "available_clocksource lists kvm-clock"
DOCKERENV = "/.dockerenv exists"
OVERLAY_DOCKER = "/proc/self/mountinfo: root filesystem is an overlay in docker's storage"

# fixture -> (kind, [(type, name, [a substring of each evidence line, in order])])
EXPECTED: dict[str, tuple[str, list[tuple[str, str, list[str]]]]] = {
    # recorded on the development machine: a Firecracker (KVM) microVM running a Docker root fs
    "firecracker-kvm-docker": (
        "vm",
        [("vm", "kvm", [HYP, KVMCLOCK]), ("container", "docker", [DOCKERENV])],
    ),
    # recorded inside a real Docker container on that machine
    "docker-kvm-amd64": (
        "vm",
        [
            ("vm", "kvm", [HYP, KVMCLOCK]),
            (
                "container",
                "docker",
                [
                    DOCKERENV,
                    "/proc/1/cgroup: 9:name=systemd:/docker/65ca",
                    "/proc/self/cgroup: 9:",
                    OVERLAY_DOCKER,
                ],
            ),
        ],
    ),
    # recorded inside a real arm64 Docker container there (Python is PID 1, so qemu hides it)
    "docker-kvm-arm64-qemu-user": (
        "emulated",
        [
            ("vm", "kvm", [HYP, KVMCLOCK]),
            (
                "container",
                "docker",
                [DOCKERENV, "/proc/1/cgroup: ", "/proc/self/cgroup: ", OVERLAY_DOCKER],
            ),
            (
                "emulated",
                "qemu-user",
                [
                    "uname -m = aarch64 but /proc/cpuinfo describes an x86 CPU "
                    "(vendor_id : GenuineIntel)",
                    "uname -m = aarch64 but the kernel is x86_64 (/proc/sys/kernel/arch)",
                ],
            ),
        ],
    ),
    # ... and with an emulated /bin/sh as PID 1: the kernel shows its interpreter
    "docker-kvm-arm64-qemu-user-sh": (
        "emulated",
        [
            ("vm", "kvm", [HYP, KVMCLOCK]),
            (
                "container",
                "docker",
                [DOCKERENV, "/proc/1/cgroup: ", "/proc/self/cgroup: ", OVERLAY_DOCKER],
            ),
            (
                "emulated",
                "qemu-user",
                [
                    "describes an x86 CPU",
                    "(/proc/sys/kernel/arch)",
                    "/proc/1/exe -> /usr/bin/qemu-aarch64-static",
                ],
            ),
        ],
    ),
    # recorded in a chroot into an arm64 root fs (binfmt_misc + qemu-aarch64-static): no container
    "qemu-user-aarch64-chroot": (
        "emulated",
        [
            ("vm", "kvm", [HYP, KVMCLOCK]),
            ("emulated", "qemu-user", ["describes an x86 CPU", "(/proc/sys/kernel/arch)"]),
        ],
    ),
    "native-x86-linux": ("native", []),
    "graviton3-metal": ("native", []),
    "graviton3-ec2-vm": (
        "vm",
        [
            (
                "vm",
                "amazon-ec2",
                [
                    "sys_vendor = Amazon EC2; /sys/class/dmi/id/bios_vendor = Amazon EC2; "
                    "/sys/class/dmi/id/board_vendor = Amazon EC2; "
                    "product_name = m7g.large (not .metal)"
                ],
            )
        ],
    ),
    "docker-linux-native": (
        "container",
        [
            (
                "container",
                "docker",
                [
                    DOCKERENV,
                    "/proc/1/cgroup: 12:cpuset:/docker/3f1c",
                    "/proc/self/cgroup: 12:cpuset:/docker/3f1c",
                    OVERLAY_DOCKER,
                ],
            )
        ],
    ),
    "docker-desktop-macos-arm64": (
        "vm",
        [
            ("vm", "docker-desktop", ["= 6.10.14-linuxkit (Docker Desktop's LinuxKit VM)"]),
            ("container", "docker", [DOCKERENV, OVERLAY_DOCKER]),
        ],
    ),
    "docker-desktop-macos-amd64-rosetta": (
        "emulated",
        [
            ("vm", "docker-desktop", ["linuxkit"]),
            ("container", "docker", [DOCKERENV, OVERLAY_DOCKER]),
            (
                "emulated",
                "rosetta",
                [
                    "uname -m = x86_64 but /proc/cpuinfo describes an arm CPU "
                    "(CPU implementer : 0x61)",
                    "uname -m = x86_64 but the kernel is aarch64",
                    "/proc/1/exe -> /run/rosetta/rosetta",
                ],
            ),
        ],
    ),
    "wsl2": (
        "vm",
        [
            (
                "vm",
                "wsl2",
                [
                    "= 5.15.167.4-microsoft-standard-WSL2 (WSL2)",
                    HYP,
                    "available_clocksource lists hyperv_clocksource_tsc_page",
                ],
            )
        ],
    ),
    "kvm-vm": (
        "vm",
        [
            (
                "vm",
                "kvm",
                [
                    "/sys/class/dmi/id/sys_vendor = QEMU",
                    HYP,
                    KVMCLOCK,
                    "/sys/firmware/qemu_fw_cfg exists",
                ],
            )
        ],
    ),
    "qemu-system-arm64-vm": (
        "emulated",
        [
            (
                "vm",
                "qemu",
                [
                    "/proc/device-tree/compatible = linux,dummy-virt (QEMU virt board)",
                    "/proc/device-tree/fw-cfg@9020000 exists (QEMU fw-cfg)",
                    "/sys/firmware/qemu_fw_cfg exists",
                ],
            ),
            ("emulated", "qemu-tcg", ["CPU implementer : 0x00, CPU part : 0x051"]),
        ],
    ),
    "podman-linux-native": (
        "container",
        [
            (
                "container",
                "podman",
                [
                    "/run/.containerenv exists (engine=podman-4.9.3)",
                    "/proc/1/environ: container=podman",
                    "/proc/self/mountinfo: root filesystem is an overlay in podman's storage",
                ],
            )
        ],
    ),
    "macos-native": ("native", []),
    "macos-rosetta": (
        "emulated",
        [("emulated", "rosetta", ["sysctl sysctl.proc_translated = 1 (Rosetta 2)"])],
    ),
    "macos-vm": (
        "vm",
        [
            (
                "vm",
                "apple-virtualization",
                ["sysctl kern.hv_vmm_present = 1", "sysctl hw.model = VirtualMac2,1"],
            )
        ],
    ),
}


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(EXPECTED) == envfixtures.names()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_layers_kind_and_evidence(name: str) -> None:
    root, facts = envfixtures.load(name)
    kind, expected = EXPECTED[name]
    layers = detect_layers(root, **facts)
    assert [(layer.type, layer.name) for layer in layers] == [(t, n) for t, n, _ in expected]
    assert kind_of(layers) == kind
    for layer, (_, _, evidence) in zip(layers, expected):
        assert len(layer.evidence) == len(evidence), layer.evidence
        for line, fragment in zip(layer.evidence, evidence):
            assert fragment in line, (line, fragment)


def test_layers_are_outermost_first_and_one_per_type() -> None:
    order = {t: i for i, t in enumerate(L.LAYER_TYPES)}
    for name in envfixtures.names():
        root, facts = envfixtures.load(name)
        types = [layer.type for layer in detect_layers(root, **facts)]
        assert types == sorted(types, key=order.__getitem__), name
        assert len(types) == len(set(types)), name


def test_macos_facts_ignore_files_and_linux_facts_ignore_sysctl() -> None:
    root, _ = envfixtures.load("docker-kvm-amd64")
    assert detect_layers(root, platform_system="Darwin", sysctl={}) == []
    translated = {"sysctl.proc_translated": "1"}
    linux = detect_layers(root, uname_machine="x86_64", platform_system="Linux", sysctl=translated)
    assert "emulated" not in [layer.type for layer in linux]
    assert detect_layers(root, platform_system="Windows") == []


def test_an_empty_root_is_native(tmp_path: Path) -> None:
    assert detect_layers(tmp_path, uname_machine="x86_64", platform_system="Linux") == []


def test_kind_of_ranks_emulated_over_vm_over_container() -> None:
    vm, ct, em = (
        Layer("vm", "kvm", ()),
        Layer("container", "docker", ()),
        Layer("emulated", "x", ()),
    )
    assert kind_of([]) == "native"
    assert kind_of([ct]) == "container"
    assert kind_of([vm, ct]) == "vm"
    assert kind_of([ct, em]) == "emulated"
    assert kind_of([vm.to_dict(), em.to_dict()]) == "emulated"


def test_layer_dict_round_trip() -> None:
    layer = Layer("vm", "kvm", ("a", "b"))
    assert Layer.from_dict(layer.to_dict()) == layer
    assert layer.to_dict() == {"type": "vm", "name": "kvm", "evidence": ["a", "b"]}
    assert str(layer) == "vm:kvm"


# --- single signals on small hand-made trees ------------------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return root


@pytest.mark.parametrize(
    ("files", "name"),
    [
        ({"sys_vendor": "VMware, Inc.", "product_name": "VMware Virtual Platform"}, "vmware"),
        ({"sys_vendor": "innotek GmbH", "product_name": "VirtualBox"}, "virtualbox"),
        (
            {
                "sys_vendor": "Parallels International GmbH.",
                "product_name": "Parallels ARM Virtual Machine",
            },
            "parallels",
        ),
        ({"sys_vendor": "Microsoft Corporation", "product_name": "Virtual Machine"}, "hyperv"),
        (
            {"sys_vendor": "Apple Inc.", "product_name": "Apple Virtualization Generic Platform"},
            "apple-virtualization",
        ),
        (
            {"sys_vendor": "Google", "product_name": "Google Compute Engine"},
            "google-compute-engine",
        ),
        ({"sys_vendor": "Xen", "product_name": "HVM domU"}, "xen"),
        ({"sys_vendor": "Amazon EC2", "product_name": "c7i.2xlarge"}, "amazon-ec2"),
        ({"sys_vendor": "QEMU", "product_name": "Standard PC (i440FX + PIIX, 1996)"}, "qemu"),
        ({"sys_vendor": "OpenStack Foundation", "product_name": "OpenStack Nova"}, "kvm"),
    ],
)
def test_dmi_vendors(tmp_path: Path, files: dict[str, str], name: str) -> None:
    root = _tree(tmp_path, {f"/sys/class/dmi/id/{k}": v + "\n" for k, v in files.items()})
    layers = detect_layers(root, uname_machine="x86_64", platform_system="Linux")
    assert [(layer.type, layer.name) for layer in layers] == [("vm", name)]


@pytest.mark.parametrize(
    "files",
    [
        {"sys_vendor": "Amazon EC2", "product_name": "c7i.metal"},
        {"sys_vendor": "Microsoft Corporation", "product_name": "Surface Laptop 5"},
        {"sys_vendor": "Dell Inc.", "product_name": "PowerEdge R750"},
        {"sys_vendor": "Apple Inc.", "product_name": "MacBookPro18,3"},
    ],
)
def test_dmi_of_bare_metal_is_not_a_vm(tmp_path: Path, files: dict[str, str]) -> None:
    root = _tree(tmp_path, {f"/sys/class/dmi/id/{k}": v + "\n" for k, v in files.items()})
    assert L.signal_dmi(root) == []


def test_kvm_names_a_qemu_guest_when_the_kvm_clock_is_there(tmp_path: Path) -> None:
    # QEMU's DMI alone could be TCG; with kvm-clock it is QEMU+KVM, and still one layer.
    root = _tree(
        tmp_path,
        {
            "/sys/class/dmi/id/sys_vendor": "QEMU\n",
            "/sys/devices/system/clocksource/clocksource0/available_clocksource": "kvm-clock tsc\n",
        },
    )
    (layer,) = detect_layers(root, uname_machine="x86_64", platform_system="Linux")
    assert (layer.type, layer.name, len(layer.evidence)) == ("vm", "kvm", 2)


def test_hypervisor_flag_alone_is_an_unknown_vm(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "/proc/cpuinfo": "processor\t: 0\nvendor_id\t: GenuineIntel\n"
            "flags\t\t: fpu sse hypervisor avx\n"
        },
    )
    assert detect_layers(root, uname_machine="x86_64", platform_system="Linux") == [
        Layer("vm", "unknown", ("cpuinfo flags: hypervisor",))
    ]


def test_device_tree_hypervisor_node(tmp_path: Path) -> None:
    root = _tree(
        tmp_path, {"/proc/device-tree/hypervisor/compatible": "xen,xen-4.17\x00xen,xen\x00"}
    )
    assert [(s.name, s.evidence) for s in L.signal_device_tree(root)] == [
        ("xen", "/proc/device-tree/hypervisor/compatible = xen,xen-4.17, xen,xen")
    ]


def test_xen_sys_hypervisor(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"/sys/hypervisor/type": "xen\n"})
    assert [(s.type, s.name) for s in L.signal_sys_hypervisor(root)] == [("vm", "xen")]


@pytest.mark.parametrize(
    ("release", "expected"),
    [
        ("5.15.167.4-microsoft-standard-WSL2", [("vm", "wsl2")]),
        ("4.19.128-microsoft-standard", [("vm", "wsl2")]),
        ("4.4.0-19041-Microsoft", [("container", "wsl1")]),
        ("6.10.14-linuxkit", [("vm", "docker-desktop")]),
        ("6.8.0-49-generic", []),
    ],
)
def test_kernel_release(tmp_path: Path, release: str, expected: list[tuple[str, str]]) -> None:
    root = _tree(tmp_path, {"/proc/sys/kernel/osrelease": release + "\n"})
    assert [(s.type, s.name) for s in L.signal_kernel_release(root)] == expected


@pytest.mark.parametrize(
    ("cgroup", "name"),
    [
        ("0::/system.slice/docker-3f1c9e5b7a2d4c6e8f0a1b3c5d7e9f1a.scope", "docker"),
        (
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-3f1c9e5b7a2d4c6e.scope",
            "containerd",
        ),
        ("11:memory:/kubepods/besteffort/pod6f1c/3f1c9e5b7a2d", "kubernetes"),
        ("0::/lxc.payload.bench", "lxc"),
        (
            "0::/user.slice/user-1000.slice/user@1000.service/app.slice/libpod-3f1c9e5b7a2d4c6e.scope",
            "podman",
        ),
        ("0::/system.slice/docker.service", None),  # the engine itself runs on the host
        ("0::/user.slice/user-1000.slice/session-3.scope", None),
    ],
)
def test_cgroup_markers(tmp_path: Path, cgroup: str, name: str | None) -> None:
    root = _tree(tmp_path, {"/proc/self/cgroup": cgroup + "\n"})
    assert [s.name for s in L.signal_cgroup(root)] == ([name] if name else [])


def test_pid1_environ_container_variable(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"/proc/1/environ": "PATH=/usr/bin\x00container=lxc\x00HOME=/\x00"})
    assert [(s.name, s.evidence) for s in L.signal_pid1_environ(root)] == [
        ("lxc", "/proc/1/environ: container=lxc")
    ]


def test_host_running_dockerd_is_not_a_container(tmp_path: Path) -> None:
    # The engine's own storage, bind-mounted on the host, is not a container root.
    root = _tree(
        tmp_path,
        {
            "/proc/self/mountinfo": "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
            "43 27 254:0 /var/lib/docker /var/lib/docker rw shared:1 - ext4 /dev/vda rw\n"
        },
    )
    assert L.signal_mountinfo(root) == []


def test_lxcfs_mounts_mean_lxc(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "/proc/self/mountinfo": "120 100 0:50 /proc/cpuinfo /proc/cpuinfo rw "
            "- fuse.lxcfs lxcfs rw\n"
        },
    )
    assert [s.name for s in L.signal_mountinfo(root)] == ["lxc"]


@pytest.mark.parametrize(
    ("target", "name"),
    [
        ("/usr/bin/qemu-aarch64-static", "qemu-user"),
        ("/usr/libexec/qemu-binfmt/x86_64-binfmt-P", "qemu-user"),
        ("/run/rosetta/rosetta", "rosetta"),
        ("/usr/local/bin/box64", "box64"),
        ("/usr/bin/python3.11", None),
    ],
)
def test_emulator_exe_from_a_recorded_link(tmp_path: Path, target: str, name: str | None) -> None:
    root = _tree(tmp_path, {"/proc/1/exe.link": target + "\n"})
    assert [s.name for s in L.signal_emulator_exe(root)] == ([name] if name else [])


def test_emulator_exe_from_a_real_symlink(tmp_path: Path) -> None:
    (tmp_path / "proc" / "self").mkdir(parents=True)
    (tmp_path / "proc" / "self" / "exe").symlink_to("/usr/bin/qemu-x86_64")  # dangling on purpose
    assert [s.evidence for s in L.signal_emulator_exe(tmp_path)] == [
        "/proc/self/exe -> /usr/bin/qemu-x86_64"
    ]


@pytest.mark.parametrize(
    ("machine", "cpuinfo", "emulated"),
    [
        ("aarch64", "vendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7763\n", True),
        ("aarch64", "model name\t: Intel(R) Xeon(R) Processor\n", True),
        ("x86_64", "CPU implementer\t: 0x41\nFeatures\t: fp asimd\n", True),
        ("riscv64", "vendor_id\t: GenuineIntel\n", True),
        ("aarch64", "CPU implementer\t: 0x41\n", False),
        ("x86_64", "vendor_id\t: GenuineIntel\n", False),
        ("x86_64", "", False),  # nothing to compare with
        (None, "vendor_id\t: GenuineIntel\n", False),
    ],
)
def test_arch_mismatch(machine: str | None, cpuinfo: str, emulated: bool) -> None:
    assert bool(L.signal_arch_mismatch(parse_cpuinfo(cpuinfo), machine)) is emulated


def test_software_cpu_only_for_implementer_zero() -> None:
    assert (
        L.signal_software_cpu(parse_cpuinfo("CPU implementer\t: 0x41\nCPU part\t: 0xd0c\n")) == []
    )
    (signal,) = L.signal_software_cpu(parse_cpuinfo("CPU implementer\t: 0x00\nCPU part\t: 0x051\n"))
    assert (signal.type, signal.name) == ("emulated", "qemu-tcg")


@pytest.mark.parametrize(
    ("sysctl", "expected"),
    [
        ({"kern.hv_vmm_present": "1", "hw.model": "VMware7,1"}, [("vm", "vmware")]),
        ({"kern.hv_vmm_present": "1", "hw.model": "Mac14,12"}, [("vm", "unknown")]),
        ({"machdep.cpu.features": "FPU VME SSE3 VMM AVX1.0"}, [("vm", "unknown")]),
        ({"sysctl.proc_translated": "0", "kern.hv_vmm_present": "0"}, []),
        (
            {
                "sysctl.proc_translated": "1",
                "kern.hv_vmm_present": "1",
                "hw.model": "VirtualMac2,1",
            },
            [("vm", "apple-virtualization"), ("emulated", "rosetta")],
        ),
        ({}, []),
    ],
)
def test_macos_sysctl(sysctl: dict[str, str], expected: list[tuple[str, str]]) -> None:
    layers = detect_layers(Path("/nonexistent"), sysctl=sysctl, platform_system="Darwin")
    assert [(layer.type, layer.name) for layer in layers] == expected
