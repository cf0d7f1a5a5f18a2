"""Pure probes: each reads the text a system source gives and says what it means.

Virtual machine signals come in two strengths. *Strong* ones name a hypervisor outright (the
firmware's DMI/SMBIOS vendor strings, ``systemd-detect-virt --vm``, Windows' computer model,
macOS' ``kern.hv_vmm_present``). *Weak* ones also appear on real computers: the CPU's hypervisor
flag is set on Windows hosts with Hyper-V, WSL2 or virtualisation-based security, and VM-vendor
MAC prefixes belong to the host adapters of VMware, VirtualBox and Hyper-V as well. A strong
signal fails the check; weak ones only warn.

The readers that fetch these texts live in ``system.py``; these functions do no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

VIRTUAL_CAMERA_PATTERN = re.compile(
    r"\bobs\b|manycam|droidcam|xsplit|snap ?camera|e2esoft|\bvcam|virtual|splitcam|camtwist"
    r"|iriun|epoccam|\bndi\b|youcam|mmhmm|\bcamo\b|chromacam|dummy video device|v4l2loopback"
    r"|fake ?cam|avatarify|\bxsplit\b|cyberlink|sparkocam|webcamoid|logi capture",
    re.IGNORECASE,
)


def is_virtual_camera_name(name: str) -> bool:
    """True when a camera's name is that of known virtual-camera software."""
    return bool(VIRTUAL_CAMERA_PATTERN.search(name))


@dataclass(frozen=True, slots=True)
class VmSignal:
    signal: str  # where it was seen: "dmi.sys_vendor", "systemd-detect-virt", "cpu.hypervisor_flag"
    value: str  # what was seen there
    strong: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"signal": self.signal, "value": self.value, "strong": self.strong}


# Firmware, model and vendor strings that only virtual machines carry.
VM_MARKERS = (
    "vmware",
    "virtualbox",
    "innotek",
    "qemu",
    "kvm",
    "xen",
    "bochs",
    "parallels",
    "virtual machine",
    "hyper-v",
    "bhyve",
    "openstack",
    "google compute engine",
    "amazon ec2",
    "cloud hypervisor",
    "virtualmac",
    "utm virtual",
    "apple virtual",
)
_VM_MARKER_RE = re.compile(
    r"\b(?:" + "|".join(re.escape(m) for m in VM_MARKERS) + ")(?![a-z])", re.IGNORECASE
)

DMI_FIELDS = (
    "sys_vendor",
    "product_name",
    "product_version",
    "board_vendor",
    "board_name",
    "bios_vendor",
    "bios_version",
    "chassis_vendor",
)


def names_vm(text: str) -> bool:
    return bool(_VM_MARKER_RE.search(text))


def dmi_signals(fields: Mapping[str, str]) -> list[VmSignal]:
    """``/sys/class/dmi/id/<field>`` contents → one strong signal per field naming a hypervisor."""
    signals: list[VmSignal] = []
    for name in DMI_FIELDS:
        value = fields.get(name, "").strip()
        if value and names_vm(value):
            signals.append(VmSignal(f"dmi.{name}", value))
    return signals


def detect_virt_signals(output: str | None) -> list[VmSignal]:
    """``systemd-detect-virt --vm`` prints the hypervisor's id, or ``none``."""
    if output is None:
        return []
    value = output.strip().splitlines()[0].strip() if output.strip() else ""
    if not value or value == "none":
        return []
    return [VmSignal("systemd-detect-virt", value)]


def cpuinfo_signals(text: str) -> list[VmSignal]:
    """``/proc/cpuinfo``: the ``hypervisor`` CPU flag (weak: Hyper-V hosts and WSL2 set it too)."""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags" and "hypervisor" in value.split():
            return [VmSignal("cpu.hypervisor_flag", "hypervisor", strong=False)]
    return []


VM_MAC_PREFIXES: dict[str, str] = {
    "00:05:69": "VMware",
    "00:0c:29": "VMware",
    "00:1c:14": "VMware",
    "00:50:56": "VMware",
    "08:00:27": "VirtualBox",
    "00:1c:42": "Parallels",
    "00:16:3e": "Xen",
    "00:15:5d": "Hyper-V",
    "52:54:00": "QEMU/KVM",
    "00:03:ff": "Virtual PC",
}


def parse_ifconfig_macs(text: str) -> dict[str, str]:
    """``ifconfig`` (macOS, BSD): interface headings and their ``ether`` lines."""
    macs: dict[str, str] = {}
    interface = ""
    for line in text.splitlines():
        if line and not line[0].isspace() and ":" in line:
            interface = line.split(":", 1)[0]
        elif line.strip().startswith("ether ") and interface:
            macs[interface] = line.split()[1]
    return macs


def normalise_mac(mac: str) -> str:
    return mac.strip().lower().replace("-", ":")


def mac_signals(macs: Mapping[str, str]) -> list[VmSignal]:
    """``{interface: MAC}`` → weak signals for VM-vendor prefixes (loopback and zero MACs skipped)."""
    signals: list[VmSignal] = []
    for interface, raw in sorted(macs.items()):
        mac = normalise_mac(raw)
        vendor = VM_MAC_PREFIXES.get(mac[:8])
        if vendor:
            signals.append(VmSignal(f"mac.{interface}", f"{mac} ({vendor})", strong=False))
    return signals


def parse_key_values(text: str) -> dict[str, str]:
    """``Key : Value`` (PowerShell Format-List) or ``Key=Value`` (wmic /format:list) lines."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        for sep in (" : ", "=", ":"):
            if sep in line:
                key, _, value = line.partition(sep)
                if key.strip():
                    values[key.strip().lower()] = value.strip()
                break
    return values


def windows_signals(text: str) -> list[VmSignal]:
    """Win32_ComputerSystem's Manufacturer and Model (strong), HypervisorPresent (weak)."""
    values = parse_key_values(text)
    signals = [
        VmSignal(f"windows.{key}", values[key])
        for key in ("manufacturer", "model")
        if values.get(key) and names_vm(values[key])
    ]
    if values.get("hypervisorpresent", "").lower() == "true":
        signals.append(VmSignal("windows.hypervisorpresent", "True", strong=False))
    return signals


def macos_signals(sysctl: Mapping[str, str]) -> list[VmSignal]:
    """``sysctl -n`` outputs by name: kern.hv_vmm_present, hw.model (strong);
    machdep.cpu.features' VMM flag (weak)."""
    signals: list[VmSignal] = []
    if sysctl.get("kern.hv_vmm_present", "").strip() == "1":
        signals.append(VmSignal("kern.hv_vmm_present", "1"))
    model = sysctl.get("hw.model", "").strip()
    if model and names_vm(model):
        signals.append(VmSignal("hw.model", model))
    if "VMM" in sysctl.get("machdep.cpu.features", "").upper().split():
        signals.append(VmSignal("machdep.cpu.features", "VMM", strong=False))
    return signals


@dataclass(frozen=True, slots=True)
class ProbeInputs:
    """Everything the VM probes read, captured as text so a test can supply any machine."""

    dmi: Mapping[str, str] | None = None
    detect_virt: str | None = None
    cpuinfo: str = ""
    macs: Mapping[str, str] | None = None
    windows_system: str = ""
    macos_sysctl: Mapping[str, str] | None = None


def vm_signals(inputs: ProbeInputs) -> list[VmSignal]:
    """Every VM signal the inputs show, strong ones first, each named once."""
    found = [
        *dmi_signals(inputs.dmi or {}),
        *detect_virt_signals(inputs.detect_virt),
        *windows_signals(inputs.windows_system),
        *macos_signals(inputs.macos_sysctl or {}),
        *cpuinfo_signals(inputs.cpuinfo),
        *mac_signals(inputs.macs or {}),
    ]
    unique = list(dict.fromkeys(found))
    return sorted(unique, key=lambda s: not s.strong)
