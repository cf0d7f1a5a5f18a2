"""``proctor-client check`` end to end: a real process against the real server on loopback."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from proctor_client.check.model import ORDER
from proctor_server.app import Server

GOOD_MACHINE = {
    "dmi": {"sys_vendor": "Dell Inc.", "product_name": "Latitude 7420"},
    "detect_virt": "none\n",
    "cpuinfo": "flags\t: fpu sse2\n",
    "macs": {"wlan0": "3c:22:fb:12:34:56"},
}


async def client(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "proctor_client.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
def good_machine(tmp_path: Path) -> Path:
    path = tmp_path / "machine.json"
    path.write_text(json.dumps(GOOD_MACHINE))
    return path


def fakes(machine: Path) -> list[str]:
    return [
        "--camera",
        "synthetic",
        "--mic",
        "tone",
        "--screens",
        "1",
        "--probe-inputs",
        str(machine),
    ]


async def test_json_on_a_good_fake_setup_exits_zero(server: Server, good_machine: Path) -> None:
    code, out, err = await client("check", "--server", server.url, "--json", *fakes(good_machine))
    assert code == 0, err
    report = json.loads(out)
    assert report["passed"] is True
    assert [c["id"] for c in report["checks"]] == [str(c) for c in ORDER]
    for check in report["checks"]:
        assert {
            "id",
            "status",
            "figure",
            "unit",
            "message",
            "advice",
            "advice_key",
            "required",
        } <= set(check)
        assert check["status"] in ("pass", "warn")
    assert report["elapsed_s"] < 20
    assert report["device"]["screens"] == 1 and report["device"]["vm_signals"] == []
    assert err == ""


async def test_human_output_lists_each_check_and_a_verdict(
    server: Server, good_machine: Path
) -> None:
    code, out, err = await client("check", "--server", server.url, *fakes(good_machine))
    assert code == 0, err
    assert "PASS  Camera:" in out and "PASS  Download speed:" in out
    assert "Result: this computer is ready for the exam" in out


async def test_an_unreachable_server_exits_non_zero_with_a_clear_message(
    unused_tcp_port: int, good_machine: Path
) -> None:
    code, out, err = await client(
        "check", "--server", f"http://127.0.0.1:{unused_tcp_port}", "--json", *fakes(good_machine)
    )
    assert code == 1
    assert "Traceback" not in err
    assert err.strip().splitlines() == ["proctor-client: check failed: latency, download, upload"]
    report = json.loads(out)
    assert report["passed"] is False
    latency = next(c for c in report["checks"] if c["id"] == "latency")
    assert latency["status"] == "fail" and "refused" in latency["message"]


async def test_a_virtual_machine_fails_and_names_its_signal(server: Server, tmp_path: Path) -> None:
    machine = tmp_path / "vm.json"
    machine.write_text(json.dumps({"dmi": {"sys_vendor": "QEMU"}, "detect_virt": "kvm\n"}))
    code, out, _ = await client("check", "--server", server.url, *fakes(machine))
    assert code == 1
    assert "dmi.sys_vendor = 'QEMU'" in out and "systemd-detect-virt = 'kvm'" in out


async def test_two_screens_fail(server: Server, good_machine: Path) -> None:
    args = fakes(good_machine)
    args[args.index("--screens") + 1] = "2"
    code, out, _ = await client("check", "--server", server.url, *args)
    assert code == 1
    assert "Disconnect the extra screen" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--camera", "/no/such/clip.mp4"], "no such video file"),
        (["--mic", "/no/such/voice.wav"], "does not exist"),
        (["--mic", "tone:loud"], "must be a number"),
        (["--screens", "-1"], "cannot be negative"),
        (["--probe-inputs", "/no/such/machine.json"], "--probe-inputs"),
    ],
)
async def test_bad_options_are_one_line_errors(args: list[str], words: str) -> None:
    code, out, err = await client("check", "--server", "http://127.0.0.1:1", *args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and words in err and "Traceback" not in err


async def test_bad_probe_inputs_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"dmi": 5}')
    code, _, err = await client(
        "check", "--server", "http://127.0.0.1:1", "--probe-inputs", str(bad)
    )
    assert code == 2 and "is not valid" in err and "Traceback" not in err


@pytest.mark.parametrize("url", ["ftp://host", "http://host:notaport", ""])
async def test_bad_server_addresses(url: str) -> None:
    code, out, err = await client(
        "check", "--server", url, "--camera", "synthetic", "--mic", "tone"
    )
    assert code == 2 and out == ""
    assert err.startswith("proctor-client: error: --server")


async def test_the_server_option_is_required() -> None:
    code, _, err = await client("check", "--json")
    assert code == 2 and "--server" in err
