"""What stands between the code and the silicon: virtual machines, containers, emulators.

Each ``signal_*`` function is pure over a root directory (``/`` live, a recorded tree in tests)
or over injected facts that are not files (``uname -m``, macOS sysctl values), and returns the
signals that fired, each with a human-readable line of evidence.  :func:`detect_layers` merges the
signals into at most one layer per type (a VM seen through DMI *and* the ``hypervisor`` flag is one
VM with two lines of evidence), outermost first: ``vm``, then ``container``, then ``emulated``.
"""

from __future__ import annotations

import platform
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from .sources import (
    CpuInfo,
    exists,
    read_cpuinfo,
    read_link,
    read_nul_list,
    read_text,
    read_value,
    under,
)

LAYER_TYPES: tuple[str, ...] = ("vm", "container", "emulated")  # outermost first
KINDS: tuple[str, ...] = ("native", "container", "vm", "emulated")  # least to most distorting


@dataclass(frozen=True)
class Layer:
    """One thing between the code and the silicon."""

    type: str  # "vm" | "container" | "emulated"
    name: str  # "kvm", "docker", "qemu-user", ...
    evidence: tuple[str, ...]  # every signal that fired, human readable

    def __str__(self) -> str:
        return f"{self.type}:{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "evidence": list(self.evidence)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Layer:
        return cls(str(data["type"]), str(data["name"]), tuple(data.get("evidence", ())))


LayerLike = Union[Layer, Mapping[str, Any]]


@dataclass(frozen=True)
class Signal:
    """One detector hit: it says ``type`` (and, with some ``priority``, which ``name``)."""

    type: str
    name: str
    evidence: str
    priority: int = 50  # the highest-priority name of a type names the layer


UNKNOWN = "unknown"


def kind_of(layers: Iterable[LayerLike]) -> str:
    """The most distorting layer type: ``emulated`` > ``vm`` > ``container`` > ``native``."""
    types = {layer.type if isinstance(layer, Layer) else layer["type"] for layer in layers}
    for kind in reversed(KINDS):
        if kind in types:
            return kind
    return "native"


# --- architecture families ------------------------------------------------------------------------

_ARCH_FAMILIES = {
    "x86_64": "x86",
    "amd64": "x86",
    "i386": "x86",
    "i486": "x86",
    "i586": "x86",
    "i686": "x86",
    "x86": "x86",
    "aarch64": "arm",
    "arm64": "arm",
    "armv7l": "arm",
    "armv8l": "arm",
    "armv6l": "arm",
    "riscv64": "riscv",
    "ppc64le": "ppc",
    "ppc64": "ppc",
    "s390x": "s390",
}


def arch_family(machine: str | None) -> str | None:
    """``x86``, ``arm``, ... for a ``uname -m`` value; ``None`` if unknown."""
    if not machine:
        return None
    return _ARCH_FAMILIES.get(machine.strip().lower())


_X86_VENDORS = ("GenuineIntel", "AuthenticAMD", "HygonGenuine", "CentaurHauls", "Shanghai")


def cpuinfo_family(cpu: CpuInfo) -> tuple[str | None, str]:
    """Which architecture ``/proc/cpuinfo`` describes, and the line that says so."""
    vendor = cpu.get("vendor_id")
    if vendor and vendor in _X86_VENDORS:
        return "x86", f"vendor_id : {vendor}"
    model = cpu.get("model name")
    if model and re.search(r"\b(Intel|AMD)\b", model):
        return "x86", f"model name : {model}"
    implementer = cpu.get("CPU implementer")
    if implementer:
        return "arm", f"CPU implementer : {implementer}"
    if cpu.get("isa") and (cpu.get("isa") or "").startswith("rv"):
        return "riscv", f"isa : {cpu.get('isa')}"
    return None, ""


# --- VM signals (Linux) ---------------------------------------------------------------------------


def signal_hypervisor_flag(cpu: CpuInfo) -> list[Signal]:
    """x86 CPUID.1:ECX[31], shown by Linux as the ``hypervisor`` flag."""
    if "hypervisor" in cpu.flags:
        return [Signal("vm", UNKNOWN, "cpuinfo flags: hypervisor", priority=0)]
    return []


DMI_FIELDS = ("sys_vendor", "product_name", "product_version", "bios_vendor", "board_vendor")

# (prefix of a DMI value, VM name, priority) -- after systemd's virt.c dmi_vendor_table
_DMI_VENDORS: tuple[tuple[str, str, int], ...] = (
    ("KVM", "kvm", 60),
    ("OpenStack", "kvm", 60),
    ("KubeVirt", "kvm", 60),
    ("QEMU", "qemu", 50),
    ("VMware", "vmware", 80),
    ("VMW", "vmware", 80),
    ("innotek GmbH", "virtualbox", 80),
    ("VirtualBox", "virtualbox", 80),
    ("Parallels", "parallels", 80),
    ("Xen", "xen", 80),
    ("Bochs", "bochs", 80),
    ("BHYVE", "bhyve", 80),
    ("Apple Virtualization", "apple-virtualization", 80),
    ("Google Compute Engine", "google-compute-engine", 80),
    ("Hyper-V", "hyperv", 80),
)


def signal_dmi(root: Path) -> list[Signal]:
    """DMI/SMBIOS strings in ``/sys/class/dmi/id`` naming a hypervisor or a cloud VM."""
    values = {f: read_value(root, f"/sys/class/dmi/id/{f}") for f in DMI_FIELDS}
    signals: list[Signal] = []

    def line(f: str) -> str:
        return f"/sys/class/dmi/id/{f} = {values[f]}"

    for f in DMI_FIELDS:
        value = values[f]
        if not value:
            continue
        if value.startswith("Amazon EC2"):
            continue  # decided below from product_name (.metal instances are bare metal)
        for prefix, name, priority in _DMI_VENDORS:
            if value.startswith(prefix):
                signals.append(Signal("vm", name, line(f), priority))
                break
    ec2 = [
        f
        for f in ("sys_vendor", "bios_vendor", "board_vendor")
        if (values[f] or "").startswith("Amazon EC2")
    ]
    if ec2:
        product = values["product_name"] or ""
        if not product.endswith(".metal"):
            evidence = "; ".join(line(f) for f in ec2)
            signals.append(
                Signal(
                    "vm",
                    "amazon-ec2",
                    f"{evidence}; product_name = {product or '?'} (not .metal)",
                    80,
                )
            )
    if (
        values["sys_vendor"] == "Microsoft Corporation"
        and values["product_name"] == "Virtual Machine"
    ):
        signals.append(Signal("vm", "hyperv", f"{line('sys_vendor')}; {line('product_name')}", 80))
    return signals


_DT_HYPERVISORS = (("linux,kvm", "kvm", 60), ("xen", "xen", 80), ("vmware", "vmware", 80))


def signal_device_tree(root: Path) -> list[Signal]:
    """An ARM guest's device tree: a ``hypervisor`` node, QEMU's ``virt`` board, its fw-cfg node."""
    signals: list[Signal] = []
    hypervisor = read_nul_list(root, "/proc/device-tree/hypervisor/compatible")
    for marker, name, priority in _DT_HYPERVISORS:
        if any(marker in compatible for compatible in hypervisor):
            evidence = f"/proc/device-tree/hypervisor/compatible = {', '.join(hypervisor)}"
            signals.append(Signal("vm", name, evidence, priority))
            break
    compatible = read_nul_list(root, "/proc/device-tree/compatible")
    if "linux,dummy-virt" in compatible:
        evidence = f"/proc/device-tree/compatible = {', '.join(compatible)} (QEMU virt board)"
        signals.append(Signal("vm", "qemu", evidence, 50))
    dt = under(root, "/proc/device-tree")
    try:
        nodes = sorted(p.name for p in dt.iterdir() if "fw-cfg" in p.name)
    except OSError:
        nodes = []
    for node in nodes:
        signals.append(Signal("vm", "qemu", f"/proc/device-tree/{node} exists (QEMU fw-cfg)", 50))
    return signals


def signal_qemu_fw_cfg(root: Path) -> list[Signal]:
    """QEMU's firmware configuration device, exported by the ``qemu_fw_cfg`` driver."""
    if exists(root, "/sys/firmware/qemu_fw_cfg"):
        return [Signal("vm", "qemu", "/sys/firmware/qemu_fw_cfg exists", 50)]
    return []


_CLOCKSOURCES = (
    ("kvm-clock", "kvm", 60),
    ("hyperv_clocksource_tsc_page", "hyperv", 80),
    ("hyperv_clocksource_msr", "hyperv", 80),
    ("xen", "xen", 80),
)


def signal_clocksource(root: Path) -> list[Signal]:
    """A paravirtual clock offered by the hypervisor (``kvm-clock``: KVM, Firecracker, Nitro)."""
    path = "/sys/devices/system/clocksource/clocksource0/available_clocksource"
    available = (read_value(root, path) or "").split()
    return [
        Signal("vm", name, f"{path} lists {clock}", priority)
        for clock, name, priority in _CLOCKSOURCES
        if clock in available
    ]


def signal_sys_hypervisor(root: Path) -> list[Signal]:
    """``/sys/hypervisor/type`` (Xen guests)."""
    value = read_value(root, "/sys/hypervisor/type")
    if value:
        return [Signal("vm", value.lower(), f"/sys/hypervisor/type = {value}", 80)]
    return []


def kernel_release(root: Path) -> str | None:
    """``uname -r`` of the kernel seen under ``root``."""
    return read_value(root, "/proc/sys/kernel/osrelease")


def signal_kernel_release(root: Path) -> list[Signal]:
    """Kernels that only run inside a VM: WSL2 (``microsoft``), Docker Desktop (``linuxkit``)."""
    release = kernel_release(root)
    if not release:
        return []
    evidence = f"kernel release (/proc/sys/kernel/osrelease) = {release}"
    if "linuxkit" in release:
        return [Signal("vm", "docker-desktop", evidence + " (Docker Desktop's LinuxKit VM)", 100)]
    if release.endswith("-Microsoft"):  # WSL1: Linux syscalls translated by the Windows kernel
        return [Signal("container", "wsl1", evidence + " (WSL1)", 40)]
    if "microsoft" in release.lower():
        return [Signal("vm", "wsl2", evidence + " (WSL2)", 100)]
    return []


# --- container signals (Linux) --------------------------------------------------------------------

# (regex on a cgroup path, container name, priority)
_CGROUP_MARKERS: tuple[tuple[str, str, int], ...] = (
    (r"/docker[/-][0-9a-f]{12,}", "docker", 60),
    (r"/libpod-[0-9a-f]{12,}", "podman", 70),
    (r"cri-containerd-[0-9a-f]{12,}|/containerd/|containerd\.io", "containerd", 55),
    (r"/kubepods", "kubernetes", 50),
    (r"/lxc[./]|lxc\.payload", "lxc", 60),
    (r"/machine\.slice/machine-", "systemd-nspawn", 40),
)


def signal_cgroup(root: Path) -> list[Signal]:
    """Container runtimes' cgroup paths in ``/proc/1/cgroup`` and ``/proc/self/cgroup``."""
    signals: list[Signal] = []
    for path in ("/proc/1/cgroup", "/proc/self/cgroup"):
        lines = (read_text(root, path) or "").splitlines()
        hit = next(
            (
                (line.strip(), name, priority)
                for line in lines
                for pattern, name, priority in _CGROUP_MARKERS
                if re.search(pattern, line.split(":", 2)[-1])
            ),
            None,
        )
        if hit:  # one line per file: every controller usually repeats the same path
            signals.append(Signal("container", hit[1], f"{path}: {hit[0]}", hit[2]))
    return signals


def signal_marker_files(root: Path) -> list[Signal]:
    """Files container engines create: ``/.dockerenv`` (docker), ``/run/.containerenv`` (podman)."""
    signals: list[Signal] = []
    if exists(root, "/.dockerenv"):
        signals.append(Signal("container", "docker", "/.dockerenv exists", 60))
    if exists(root, "/run/.containerenv"):
        text = read_text(root, "/run/.containerenv") or ""
        match = re.search(r'^engine="?([^"\n]*)"?', text, re.MULTILINE)
        detail = f" (engine={match.group(1)})" if match else ""
        signals.append(Signal("container", "podman", f"/run/.containerenv exists{detail}", 70))
    return signals


_ENVIRON_NAMES = {
    "docker": "docker",
    "podman": "podman",
    "oci": "oci",
    "lxc": "lxc",
    "lxc-libvirt": "lxc",
    "systemd-nspawn": "systemd-nspawn",
    "wsl": "wsl1",
}


def signal_pid1_environ(root: Path) -> list[Signal]:
    """``container=...`` in the environment of PID 1 (set by podman, LXC, systemd-nspawn)."""
    for item in read_nul_list(root, "/proc/1/environ"):
        key, _, value = item.partition("=")
        if key == "container" and value:
            name = _ENVIRON_NAMES.get(value, value.lower())
            return [Signal("container", name, f"/proc/1/environ: container={value}", 65)]
    return []


# (substring of a mountinfo line, container name, priority)
_MOUNT_MARKERS: tuple[tuple[str, str, int], ...] = (
    ("/var/lib/docker/", "docker", 60),
    ("/containers/storage/overlay", "podman", 70),
    ("io.containerd.", "containerd", 55),
    ("/var/lib/kubelet/pods/", "kubernetes", 50),
    ("lxcfs", "lxc", 60),
)


def signal_mountinfo(root: Path) -> list[Signal]:
    """The root filesystem (an overlay in the engine's storage) and engine bind mounts."""
    signals: list[Signal] = []
    seen: set[str] = set()
    for line in (read_text(root, "/proc/self/mountinfo") or "").splitlines():
        fields = line.split()
        if len(fields) < 5 or " - " not in line:
            continue
        mount_root, mount_point = fields[3], fields[4]
        after = line.split(" - ", 1)[1].split()
        fstype = after[0] if after else ""
        for marker, name, priority in _MOUNT_MARKERS:
            if marker not in line or name in seen:
                continue
            if mount_point == "/" and fstype == "overlay":
                what = f"root filesystem is an overlay in {name}'s storage"
            elif marker in mount_root:
                what = f"{mount_point} is bind-mounted from {mount_root}"
            elif marker == "lxcfs" and fstype.startswith("fuse.lxcfs"):
                what = f"{mount_point} is served by lxcfs"
            else:
                continue
            seen.add(name)
            signals.append(Signal("container", name, f"/proc/self/mountinfo: {what}", priority))
    return signals


# --- emulation signals ----------------------------------------------------------------------------


def signal_arch_mismatch(cpu: CpuInfo, uname_machine: str | None) -> list[Signal]:
    """``uname -m`` says one architecture while ``/proc/cpuinfo`` describes another CPU.

    qemu-user translates the instructions but passes the host's ``/proc/cpuinfo`` through.
    """
    machine_family = arch_family(uname_machine)
    cpu_family, cpu_line = cpuinfo_family(cpu)
    if machine_family and cpu_family and machine_family != cpu_family:
        evidence = (
            f"uname -m = {uname_machine} but /proc/cpuinfo describes an {cpu_family} CPU "
            f"({cpu_line})"
        )
        return [Signal("emulated", "qemu-user", evidence, 50)]
    return []


def signal_kernel_arch(root: Path, uname_machine: str | None) -> list[Signal]:
    """``uname -m`` differs from the running kernel's architecture (``/proc/sys/kernel/arch``)."""
    kernel_arch = read_value(root, "/proc/sys/kernel/arch")
    machine_family = arch_family(uname_machine)
    kernel_family = arch_family(kernel_arch)
    if machine_family and kernel_family and machine_family != kernel_family:
        evidence = (
            f"uname -m = {uname_machine} but the kernel is {kernel_arch} (/proc/sys/kernel/arch)"
        )
        return [Signal("emulated", "qemu-user", evidence, 50)]
    return []


def _emulator_name(target: str) -> str | None:
    base = target.rsplit("/", 1)[-1]
    if base.startswith("qemu-") or "/qemu-binfmt/" in target:
        return "qemu-user"
    if "rosetta" in base.lower():
        return "rosetta"
    if base in ("box64", "box86", "FEXInterpreter", "FEXLoader"):
        return base.lower()
    return None


def signal_emulator_exe(root: Path) -> list[Signal]:
    """``/proc/1/exe`` or ``/proc/self/exe`` is an emulator (binfmt_misc runs it as interpreter)."""
    signals: list[Signal] = []
    for path in ("/proc/1/exe", "/proc/self/exe"):
        target = read_link(root, path)
        name = _emulator_name(target) if target else None
        if name:
            signals.append(Signal("emulated", name, f"{path} -> {target}", 70))
    return signals


def signal_software_cpu(cpu: CpuInfo) -> list[Signal]:
    """``CPU implementer : 0x00`` on arm: QEMU's software ``max`` CPU (TCG full-system emulation).

    A KVM guest on real ARM hardware shows the real implementer (0x41 Arm, 0x61 Apple, ...).
    """
    if cpu.get("CPU implementer") == "0x00":
        part = cpu.get("CPU part") or "?"
        evidence = (
            f"/proc/cpuinfo: CPU implementer : 0x00, CPU part : {part} "
            "(QEMU's software 'max' CPU: instructions are emulated)"
        )
        return [Signal("emulated", "qemu-tcg", evidence, 60)]
    return []


# --- macOS ----------------------------------------------------------------------------------------


def _vm_name_from_hw_model(model: str) -> str:
    if model.startswith("VirtualMac"):
        return "apple-virtualization"
    if model.startswith("VMware"):
        return "vmware"
    if model.startswith("Parallels"):
        return "parallels"
    return UNKNOWN


def signal_macos(sysctl: Mapping[str, str]) -> list[Signal]:
    """macOS: ``sysctl.proc_translated`` (Rosetta 2), ``kern.hv_vmm_present`` (VM), ``hw.model``."""
    signals: list[Signal] = []
    model = sysctl.get("hw.model", "")
    if sysctl.get("kern.hv_vmm_present", "").strip() == "1":
        name = _vm_name_from_hw_model(model)
        signals.append(
            Signal("vm", name, "sysctl kern.hv_vmm_present = 1", 80 if name != UNKNOWN else 0)
        )
        if name != UNKNOWN:
            signals.append(Signal("vm", name, f"sysctl hw.model = {model}", 80))
    if "VMM" in sysctl.get("machdep.cpu.features", "").split():
        signals.append(Signal("vm", UNKNOWN, "sysctl machdep.cpu.features lists VMM", 0))
    if sysctl.get("sysctl.proc_translated", "").strip() == "1":
        signals.append(
            Signal("emulated", "rosetta", "sysctl sysctl.proc_translated = 1 (Rosetta 2)", 80)
        )
    return signals


# --- merging --------------------------------------------------------------------------------------


def linux_signals(root: Path, uname_machine: str | None) -> list[Signal]:
    """Every Linux detector, in the order their evidence is reported."""
    cpu = read_cpuinfo(root)
    return [
        *signal_kernel_release(root),
        *signal_dmi(root),
        *signal_hypervisor_flag(cpu),
        *signal_clocksource(root),
        *signal_sys_hypervisor(root),
        *signal_device_tree(root),
        *signal_qemu_fw_cfg(root),
        *signal_marker_files(root),
        *signal_pid1_environ(root),
        *signal_cgroup(root),
        *signal_mountinfo(root),
        *signal_arch_mismatch(cpu, uname_machine),
        *signal_kernel_arch(root, uname_machine),
        *signal_emulator_exe(root),
        *signal_software_cpu(cpu),
    ]


def merge(signals: Sequence[Signal]) -> list[Layer]:
    """At most one layer per type, named by its highest-priority signal, outermost first."""
    layers: list[Layer] = []
    for layer_type in LAYER_TYPES:
        hits = [s for s in signals if s.type == layer_type]
        if not hits:
            continue
        best = max(hits, key=lambda s: s.priority)  # max() keeps the first of equal priorities
        evidence = tuple(dict.fromkeys(s.evidence for s in hits))
        layers.append(Layer(layer_type, best.name, evidence))
    return layers


def detect_layers(
    root: Path = Path("/"),
    *,
    uname_machine: str | None = None,
    sysctl: Mapping[str, str] | None = None,
    platform_system: str | None = None,
) -> list[Layer]:
    """Layers between the code and the silicon, outermost first, with their evidence.

    Pure over ``root`` and the injected facts.  On the live machine (``root`` is ``/``) facts left
    as ``None`` are read from the running process; under another root they stay unknown (a test
    passes them), except ``platform_system``, which then defaults to ``"Linux"``.
    """
    root = Path(root)
    live = root.resolve() == Path("/")
    if platform_system is None:
        platform_system = platform.system() if live else "Linux"
    if uname_machine is None and live:
        uname_machine = platform.machine()
    if platform_system == "Darwin":
        if sysctl is None:
            if live:
                from .sources import read_sysctl

                sysctl = read_sysctl()
            else:
                sysctl = {}
        return merge(signal_macos(sysctl))
    if platform_system == "Linux":
        return merge(linux_signals(root, uname_machine))
    return []
