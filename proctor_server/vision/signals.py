"""Device signals the client reports, judged on the server (the client's own verdicts are not
trusted: the server re-reads the raw names and values).

Shape (in `hello.client`, and in `event` messages of kind `device_signal` as `detail`)::

    {
      "cameras": ["Integrated Camera", "OBS Virtual Camera"],   # every camera the OS lists
      "camera_in_use": "Integrated Camera",                     # optional: the one streaming
      "vm_signals": [                                           # what the probes saw
        {"signal": "dmi.sys_vendor", "value": "VMware, Inc."},
        {"signal": "cpu.hypervisor_flag", "value": "1"}
      ],
      "os": "...", "screens": 1, "virtual_cameras": [...]        # informative, not trusted
    }

Rules: a virtual camera IN USE is a violation (0.9); a virtual camera installed while the camera
in use is unknown is a weaker one (0.5); installed but not in use is nothing (people keep OBS).
A virtual machine needs a *strong* signal (a firmware, model or hypervisor string that only VMs
carry: 0.9, two independent sources 0.95); weak signals alone (the CPU hypervisor flag, a VM
vendor's network adapter) also appear on real computers with Hyper-V or WSL2 and raise nothing.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from proctor_server.analysis import ViolationDraft

VIRTUAL_CAMERA = re.compile(
    r"\bobs\b|manycam|droidcam|xsplit|snap ?camera|e2esoft|\bvcam|virtual|splitcam|camtwist"
    r"|iriun|epoccam|\bndi\b|youcam|mmhmm|chromacam|dummy video device|v4l2loopback"
    r"|fake ?cam|avatarify|sparkocam|webcamoid|unity ?capture",
    re.IGNORECASE,
)
VM_VALUE = re.compile(
    r"\b(?:vmware|virtualbox|innotek|qemu|kvm|xen|bochs|parallels|virtual machine|hyper-v"
    r"|bhyve|openstack|google compute engine|amazon ec2|cloud hypervisor|virtualmac"
    r"|utm virtual|apple virtual|microsoft|oracle)",
    re.IGNORECASE,
)
# Sources whose VM-like value only a VM shows. "microsoft"/"oracle" alone count only as the
# DMI vendor together with a VM product; see `_strong`.
STRONG_SOURCES = ("dmi.", "systemd-detect-virt", "model", "kern.hv_vmm_present", "wmi.")
WEAK_SOURCES = ("cpu.hypervisor_flag", "mac", "net.")
MAX_ITEMS = 32  # evidence never grows past this many names or signals


def _text(value: Any, limit: int = 200) -> str:
    return str(value)[:limit] if value is not None else ""


def _strong(signal: str, value: str) -> bool:
    if signal.startswith(WEAK_SOURCES) or not signal.startswith(STRONG_SOURCES):
        return False
    if signal == "kern.hv_vmm_present":
        return value.strip() == "1"
    if signal.startswith("systemd-detect-virt"):
        return value.strip().lower() not in ("", "none")
    match = VM_VALUE.search(value)
    if match is None:
        return False
    if match.group(0).lower() in ("microsoft", "oracle"):  # the vendor of real PCs' firmware too
        return bool(re.search(r"virtual", value, re.IGNORECASE))
    return True


def assess_device(client: dict[str, Any], at: datetime) -> list[ViolationDraft]:
    """The violations that a device summary shows (pure)."""
    if not isinstance(client, dict):
        return []
    drafts: list[ViolationDraft] = []
    raw_cameras = client.get("cameras")
    cameras = [_text(c) for c in raw_cameras[:MAX_ITEMS]] if isinstance(raw_cameras, list) else []
    in_use = _text(client.get("camera_in_use")) or None
    virtual = [c for c in cameras if VIRTUAL_CAMERA.search(c)]
    if in_use is not None and VIRTUAL_CAMERA.search(in_use):
        drafts.append(
            ViolationDraft(
                "virtual_camera", 0.9, at, None, {"camera_in_use": in_use, "cameras": cameras}
            )
        )
    elif in_use is None and virtual:
        drafts.append(
            ViolationDraft(
                "virtual_camera",
                0.5,
                at,
                None,
                {"virtual_cameras": virtual, "cameras": cameras, "camera_in_use": None},
            )
        )

    raw_signals = client.get("vm_signals")
    signals = raw_signals[:MAX_ITEMS] if isinstance(raw_signals, list) else []
    strong: list[dict[str, str]] = []
    weak: list[dict[str, str]] = []
    for item in signals:
        if not isinstance(item, dict):
            continue
        signal, value = _text(item.get("signal"), 64), _text(item.get("value"))
        if _strong(signal, value):
            strong.append({"signal": signal, "value": value})
        elif VM_VALUE.search(value) or signal.startswith(WEAK_SOURCES):
            weak.append({"signal": signal, "value": value})
    if strong:
        sources = {s["signal"].split(".")[0] for s in strong}
        confidence = 0.95 if len(sources) >= 2 or len(strong) >= 2 else 0.9
        drafts.append(
            ViolationDraft(
                "virtual_machine", confidence, at, None, {"signals": strong, "weak": weak}
            )
        )
    return drafts


class DeviceSignals:
    """`ClientSignals` for the server (see proctor_server/analysis.py)."""

    def assess(self, client: dict[str, Any], at: datetime) -> list[ViolationDraft]:
        return assess_device(client, at)
