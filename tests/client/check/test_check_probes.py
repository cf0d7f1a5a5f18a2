"""The VM and virtual-camera probes over captured texts (no dependence on this machine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from proctor_client.check.evaluate import OsFigures
from proctor_client.check.probes import (
    ProbeInputs,
    VmSignal,
    cpuinfo_signals,
    detect_virt_signals,
    dmi_signals,
    is_virtual_camera_name,
    mac_signals,
    macos_signals,
    parse_ifconfig_macs,
    parse_key_values,
    vm_signals,
    windows_signals,
)
from proctor_client.check.system import (
    DrmScreens,
    build_device_signals,
    gather_device_signals,
    parse_drm_connectors,
    read_device_signals,
    read_linux_macs,
)
from proctor_client.devices import FixedScreens


@pytest.mark.parametrize(
    ("name", "virtual"),
    [
        ("OBS Virtual Camera", True),
        ("OBS-Camera", True),
        ("ManyCam Virtual Webcam", True),
        ("DroidCam Source 3", True),
        ("XSplit VCam", True),
        ("Snap Camera", True),
        ("SnapCamera", True),
        ("e2eSoft VCam", True),
        ("Virtual Camera", True),
        ("Dummy video device (0x0000)", True),
        ("Iriun Webcam", True),
        ("NDI Webcam Video 1", True),
        ("Integrated Camera: Integrated C", False),
        ("FaceTime HD Camera", False),
        ("HD Pro Webcam C920", False),
        ("Logitech BRIO", False),
        ("Jobs Camera 2000", False),  # "obs" inside a word is not OBS
        ("Camouflage HD", False),  # nor is "camo" inside a word
    ],
)
def test_virtual_camera_names(name: str, virtual: bool) -> None:
    assert is_virtual_camera_name(name) is virtual


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, []),
        (
            {
                "sys_vendor": "Dell Inc.\n",
                "product_name": "Latitude 7420\n",
                "bios_vendor": "Dell Inc.",
            },
            [],
        ),
        (
            {
                "sys_vendor": "LENOVO",
                "product_name": "20XW0026GE",
                "product_version": "ThinkPad X1 Carbon",
            },
            [],
        ),
        (
            {"sys_vendor": "QEMU\n", "product_name": "Standard PC (Q35 + ICH9, 2009)\n"},
            [VmSignal("dmi.sys_vendor", "QEMU")],
        ),
        (
            {"sys_vendor": "innotek GmbH", "product_name": "VirtualBox"},
            [
                VmSignal("dmi.sys_vendor", "innotek GmbH"),
                VmSignal("dmi.product_name", "VirtualBox"),
            ],
        ),
        (
            {"sys_vendor": "VMware, Inc.", "product_name": "VMware7,1"},
            [VmSignal("dmi.sys_vendor", "VMware, Inc."), VmSignal("dmi.product_name", "VMware7,1")],
        ),
        (
            {"sys_vendor": "Microsoft Corporation", "product_name": "Virtual Machine"},
            [VmSignal("dmi.product_name", "Virtual Machine")],
        ),
        ({"sys_vendor": "Microsoft Corporation", "product_name": "Surface Laptop 5"}, []),
        ({"sys_vendor": "Xen", "product_name": "HVM domU"}, [VmSignal("dmi.sys_vendor", "Xen")]),
        (
            {"sys_vendor": "Parallels Software International Inc."},
            [VmSignal("dmi.sys_vendor", "Parallels Software International Inc.")],
        ),
        ({"bios_vendor": "SeaBIOS", "product_name": "KVM"}, [VmSignal("dmi.product_name", "KVM")]),
        (
            {"sys_vendor": "Google", "product_name": "Google Compute Engine"},
            [VmSignal("dmi.product_name", "Google Compute Engine")],
        ),
        ({"sys_vendor": "Xenon Systems"}, []),
    ],
)
def test_dmi(fields: dict[str, str], expected: list[VmSignal]) -> None:
    assert dmi_signals(fields) == expected


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (None, []),
        ("", []),
        ("none\n", []),
        ("kvm\n", [VmSignal("systemd-detect-virt", "kvm")]),
        ("oracle\n", [VmSignal("systemd-detect-virt", "oracle")]),
        ("microsoft\n", [VmSignal("systemd-detect-virt", "microsoft")]),
    ],
)
def test_systemd_detect_virt(output: str | None, expected: list[VmSignal]) -> None:
    assert detect_virt_signals(output) == expected


CPUINFO_REAL = "processor\t: 0\nflags\t\t: fpu vme de pse tsc msr pae mce cx8 apic\n"
CPUINFO_VM = "processor\t: 0\nflags\t\t: fpu vme de pse tsc hypervisor lahf_lm\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        (CPUINFO_REAL, []),
        (CPUINFO_VM, [VmSignal("cpu.hypervisor_flag", "hypervisor", strong=False)]),
        ("model name\t: hypervisor-brand CPU\nflags\t: fpu\n", []),  # only the flags line counts
    ],
)
def test_cpuinfo(text: str, expected: list[VmSignal]) -> None:
    assert cpuinfo_signals(text) == expected


@pytest.mark.parametrize(
    ("macs", "expected"),
    [
        ({}, []),
        ({"wlan0": "3c:22:fb:12:34:56"}, []),
        (
            {"eth0": "08:00:27:AB:CD:EF"},
            [VmSignal("mac.eth0", "08:00:27:ab:cd:ef (VirtualBox)", False)],
        ),
        (
            {"Ethernet": "00-50-56-C0-00-08"},
            [VmSignal("mac.Ethernet", "00:50:56:c0:00:08 (VMware)", False)],
        ),
        (
            {"ens3": "52:54:00:12:34:56", "wlan0": "3c:22:fb:12:34:56"},
            [VmSignal("mac.ens3", "52:54:00:12:34:56 (QEMU/KVM)", False)],
        ),
    ],
)
def test_mac_prefixes(macs: dict[str, str], expected: list[VmSignal]) -> None:
    assert mac_signals(macs) == expected


IFCONFIG = """lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384
\tinet 127.0.0.1 netmask 0xff000000
en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500
\tether 00:1c:42:aa:bb:cc
\tinet 10.211.55.3 netmask 0xffffff00 broadcast 10.211.55.255
en1: flags=8863<UP> mtu 1500
\tether a4:83:e7:01:02:03
"""


def test_ifconfig_macs() -> None:
    assert parse_ifconfig_macs(IFCONFIG) == {"en0": "00:1c:42:aa:bb:cc", "en1": "a4:83:e7:01:02:03"}
    assert mac_signals(parse_ifconfig_macs(IFCONFIG)) == [
        VmSignal("mac.en0", "00:1c:42:aa:bb:cc (Parallels)", False)
    ]


WIN_REAL = "\r\n\r\nManufacturer      : Dell Inc.\r\nModel             : XPS 13 9310\r\nHypervisorPresent : False\r\n"
WIN_HYPERV_HOST = "Manufacturer : LENOVO\nModel : 20XW0026GE\nHypervisorPresent : True\n"
WIN_VMWARE = (
    "Manufacturer : VMware, Inc.\nModel : VMware Virtual Platform\nHypervisorPresent : True\n"
)
WIN_WMIC = "Manufacturer=innotek GmbH\r\nModel=VirtualBox\r\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        (WIN_REAL, []),
        (WIN_HYPERV_HOST, [VmSignal("windows.hypervisorpresent", "True", strong=False)]),
        (
            WIN_VMWARE,
            [
                VmSignal("windows.manufacturer", "VMware, Inc."),
                VmSignal("windows.model", "VMware Virtual Platform"),
                VmSignal("windows.hypervisorpresent", "True", strong=False),
            ],
        ),
        (
            WIN_WMIC,
            [
                VmSignal("windows.manufacturer", "innotek GmbH"),
                VmSignal("windows.model", "VirtualBox"),
            ],
        ),
    ],
)
def test_windows(text: str, expected: list[VmSignal]) -> None:
    assert windows_signals(text) == expected


def test_key_values_accept_both_windows_formats() -> None:
    assert parse_key_values("Model : A : B\nName=x\n") == {"model": "A : B", "name": "x"}


@pytest.mark.parametrize(
    ("sysctl", "expected"),
    [
        ({}, []),
        (
            {
                "kern.hv_vmm_present": "0\n",
                "hw.model": "MacBookPro18,3\n",
                "machdep.cpu.features": "FPU VME SSE3",
            },
            [],
        ),
        (
            {"kern.hv_vmm_present": "1\n", "hw.model": "VirtualMac2,1\n"},
            [VmSignal("kern.hv_vmm_present", "1"), VmSignal("hw.model", "VirtualMac2,1")],
        ),
        (
            {"hw.model": "VMware7,1", "machdep.cpu.features": "FPU VMM SSE3"},
            [
                VmSignal("hw.model", "VMware7,1"),
                VmSignal("machdep.cpu.features", "VMM", strong=False),
            ],
        ),
    ],
)
def test_macos(sysctl: dict[str, str], expected: list[VmSignal]) -> None:
    assert macos_signals(sysctl) == expected


def test_vm_signals_put_strong_first_and_name_each_once() -> None:
    inputs = ProbeInputs(
        dmi={"sys_vendor": "QEMU"},
        detect_virt="kvm\n",
        cpuinfo=CPUINFO_VM,
        macs={"ens3": "52:54:00:12:34:56"},
    )
    signals = vm_signals(inputs)
    assert [s.signal for s in signals] == [
        "dmi.sys_vendor",
        "systemd-detect-virt",
        "cpu.hypervisor_flag",
        "mac.ens3",
    ]
    assert vm_signals(ProbeInputs()) == []


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ({}, []),
        ({"card0-eDP-1": "connected\n", "card0-HDMI-A-1": "disconnected\n"}, ["card0-eDP-1"]),
        (
            {"card0-eDP-1": "connected\n", "card0-DP-2": "connected\n"},
            ["card0-DP-2", "card0-eDP-1"],
        ),
    ],
)
def test_drm_connectors(statuses: dict[str, str], expected: list[str]) -> None:
    assert parse_drm_connectors(statuses) == expected


def test_drm_screens_on_a_sysfs_tree(tmp_path: Path) -> None:
    for name, status in [
        ("card0-eDP-1", "connected"),
        ("card0-HDMI-A-1", "connected"),
        ("card0-DP-1", "disconnected"),
    ]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "status").write_text(status + "\n")
    (tmp_path / "card0").mkdir()  # the card itself has no status
    assert len(DrmScreens(tmp_path).geometries()) == 2
    assert DrmScreens(tmp_path / "absent").geometries() == []


def test_linux_macs_on_a_sysfs_tree(tmp_path: Path) -> None:
    for name, mac in [("lo", "00:00:00:00:00:00"), ("eth0", "08:00:27:00:00:01"), ("tun0", "")]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "address").write_text(mac + "\n")
    assert read_linux_macs(tmp_path) == {"eth0": "08:00:27:00:00:01"}


def test_device_signals_shape() -> None:
    signals = [VmSignal("dmi.sys_vendor", "QEMU")]
    data = build_device_signals(
        OsFigures("Windows", "10", "10.0.19045"),
        ["Integrated Webcam", "OBS Virtual Camera"],
        signals,
        2,
    )
    assert data == {
        "os": "Windows 10",
        "cameras": ["Integrated Webcam", "OBS Virtual Camera"],
        "virtual_cameras": ["OBS Virtual Camera"],
        "vm_signals": [{"signal": "dmi.sys_vendor", "value": "QEMU", "strong": True}],
        "screens": 2,
    }


def test_read_device_signals_uses_the_inputs_given() -> None:
    data = read_device_signals(
        FixedScreens.count(1),
        probe_inputs=ProbeInputs(detect_virt="vmware\n"),
        cameras=["ManyCam Virtual Webcam"],
    )
    assert data["vm_signals"] == [
        {"signal": "systemd-detect-virt", "value": "vmware", "strong": True}
    ]
    assert data["virtual_cameras"] == ["ManyCam Virtual Webcam"]
    assert data["screens"] == 1
    assert isinstance(data["os"], str) and data["os"]


async def test_gather_device_signals_adds_the_camera_in_use_and_counts_screens() -> None:
    data = await gather_device_signals(
        FixedScreens.count(2),
        camera_in_use="XSplit VCam",
        probe_inputs=ProbeInputs(),
        cameras=["Integrated Webcam"],
    )
    assert data["cameras"] == ["Integrated Webcam", "XSplit VCam"]
    assert data["virtual_cameras"] == ["XSplit VCam"]
    assert data["screens"] == 2 and data["vm_signals"] == []
