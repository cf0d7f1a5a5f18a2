"""Device signals the client reports, judged on the server."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from proctor_server.vision.signals import DeviceSignals

AT = datetime(2026, 7, 25, 6, 0, tzinfo=UTC)


def kinds(client: Any) -> list[tuple[str, float]]:
    return [(d.kind, d.confidence) for d in DeviceSignals().assess(client, AT)]


@pytest.mark.parametrize(
    "client, expected",
    [
        ({}, []),
        ({"cameras": ["Integrated Camera"], "camera_in_use": "Integrated Camera"}, []),
        (
            {
                "cameras": ["Integrated Camera", "OBS Virtual Camera"],
                "camera_in_use": "OBS Virtual Camera",
            },
            [("virtual_camera", 0.9)],
        ),
        ({"cameras": ["HD Webcam", "ManyCam Virtual Webcam"]}, [("virtual_camera", 0.5)]),
        # installed, not in use: many people keep OBS around
        ({"cameras": ["HD Webcam", "OBS Virtual Camera"], "camera_in_use": "HD Webcam"}, []),
        (
            {
                "cameras": ["Dummy video device (0x0000)"],
                "camera_in_use": "Dummy video device (0x0000)",
            },
            [("virtual_camera", 0.9)],
        ),
        (
            {"vm_signals": [{"signal": "dmi.sys_vendor", "value": "VMware, Inc."}]},
            [("virtual_machine", 0.9)],
        ),
        (
            {
                "vm_signals": [
                    {"signal": "dmi.sys_vendor", "value": "innotek GmbH"},
                    {"signal": "systemd-detect-virt", "value": "oracle"},
                ]
            },
            [("virtual_machine", 0.95)],
        ),
        # weak signals appear on real computers (Hyper-V hosts, WSL2): nothing
        ({"vm_signals": [{"signal": "cpu.hypervisor_flag", "value": "1"}]}, []),
        ({"vm_signals": [{"signal": "mac.oui", "value": "00:50:56 VMware"}]}, []),
        # a real PC's firmware by a vendor that also makes hypervisors
        ({"vm_signals": [{"signal": "dmi.sys_vendor", "value": "Microsoft Corporation"}]}, []),
        (
            {
                "vm_signals": [
                    {"signal": "dmi.product_name", "value": "Virtual Machine"},
                    {"signal": "dmi.sys_vendor", "value": "Microsoft Corporation"},
                ]
            },
            [("virtual_machine", 0.9)],
        ),
        ({"vm_signals": [{"signal": "systemd-detect-virt", "value": "none"}]}, []),
        # the client's own verdicts are not trusted either way
        (
            {
                "virtual_cameras": ["OBS"],
                "vm_signals": [{"signal": "dmi.sys_vendor", "value": "Dell Inc.", "strong": True}],
            },
            [],
        ),
    ],
)
def test_assess(client: dict[str, Any], expected: list[tuple[str, float]]) -> None:
    assert kinds(client) == expected


@pytest.mark.parametrize(
    "client",
    [
        None,
        [],
        "text",
        {"cameras": "OBS"},
        {"cameras": [None, 5, {"x": 1}]},
        {"vm_signals": "VMware"},
        {"vm_signals": [None, 3, "VMware", {"signal": None, "value": None}]},
        {"camera_in_use": 12},
    ],
)
def test_malformed_input_raises_nothing_and_flags_nothing(client: Any) -> None:
    assert kinds(client) == []


def test_evidence_is_bounded_and_names_what_was_seen() -> None:
    client: dict[str, Any] = {"cameras": [f"Cam {i}" for i in range(500)] + ["OBS Virtual Camera"]}
    drafts = DeviceSignals().assess(client, AT)
    assert drafts == []  # the virtual camera was past the bound: nothing read beyond it
    client = {
        "cameras": ["OBS Virtual Camera", "x" * 10_000],
        "camera_in_use": "OBS Virtual Camera",
    }
    (draft,) = DeviceSignals().assess(client, AT)
    assert draft.evidence["camera_in_use"] == "OBS Virtual Camera"
    assert all(len(c) <= 200 for c in draft.evidence["cameras"])
    assert draft.started_at == AT
