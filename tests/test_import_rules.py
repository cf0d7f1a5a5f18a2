"""Import rules that keep the design easy to change (DESIGN.md 7 and 10; docs/architecture.md,
"Import rules"). The contracts are import-linter's, in pyproject.toml; ruff bans relative
imports; tests/fences/rules.py checks what import-linter cannot see.

Every contract is shown to bite: a copy of the tree with one injected violation breaks it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fences.rules import (
    ROOT,
    contracts,
    copy_tree,
    core_io_calls,
    msgspec_json_decoders,
)

CONTRACTS = {
    "sides",
    "pure-cores",
    "server-core",
    "store-no-features",
    "vision-libraries",
    "qt",
    "client-ui-on-top",
    "client-layers",
    "server-commands-on-top",
    "wire-json",
}


def inject(tree: Path, files: dict[str, str]) -> None:
    """Append to each file (a new module if it does not exist). The file is replaced, not
    written in place, so that a hard-linked copy leaves its original alone."""
    for name, source in files.items():
        path = tree / name
        before = ""
        if path.exists():
            before = path.read_text(encoding="utf-8")
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(before + "\n" + source, encoding="utf-8")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """The `lint-imports` command, as `./dev test` runs it."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports_command; lint_imports_command()",
            "--no-cache",
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_the_tree_keeps_every_contract() -> None:
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_an_untouched_copy_keeps_every_contract(tmp_path: Path) -> None:
    """The copies below break a contract because of what was injected, not of the copying."""
    assert contracts(copy_tree(tmp_path)) == dict.fromkeys(CONTRACTS, True)


def test_lint_imports_fails_on_a_broken_contract(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    inject(tree, {"shared/_probe.py": "import proctor_server.core\n"})
    run = lint_imports(tree)
    assert run.returncode != 0
    assert "1 broken" in run.stdout


# (contract, files to append to or create). Injected modules are new files, so that the cases
# survive the refactoring of the modules around them.
VIOLATIONS: dict[str, tuple[str, dict[str, str]]] = {
    # the sides
    "shared imports the server": ("sides", {"shared/_probe.py": "import proctor_server.core\n"}),
    "shared imports the client": (
        "sides",
        {"shared/_probe.py": "from proctor_client.core import state\n"},
    ),
    "the client imports the server": (
        "sides",
        {"proctor_client/runtime/_probe.py": "import proctor_server.store\n"},
    ),
    "the server imports the client": (
        "sides",
        {"proctor_server/_probe.py": "from proctor_client import outbox\n"},
    ),
    # the pure cores, directly and through the project's own packages
    "I/O through the client's own outbox": (
        "pure-cores",
        {"proctor_client/core/_probe.py": "from proctor_client import outbox\n"},
    ),
    "I/O through the server's store": (
        "pure-cores",
        {"proctor_server/core/_probe.py": "import proctor_server.store\n"},
    ),
    "time in the server's core, inside a function": (
        "pure-cores",
        {
            "proctor_server/core/_probe.py": (
                "def deadline() -> float:\n    import time\n\n    return time.time()\n"
            )
        },
    ),
    "random in shared": ("pure-cores", {"shared/_probe.py": "from random import random\n"}),
    "uuid in the client's core": ("pure-cores", {"proctor_client/core/_probe.py": "import uuid\n"}),
    "secrets beside the one known case": ("pure-cores", {"shared/_probe.py": "import secrets\n"}),
    "time in shuffle (its exception is secrets only)": (
        "pure-cores",
        {"shared/shuffle.py": "import time\n"},
    ),
    "asyncio in the client's core": (
        "pure-cores",
        {"proctor_client/core/_probe.py": "import asyncio\n"},
    ),
    "websockets in shared": ("pure-cores", {"shared/_probe.py": "import websockets\n"}),
    "sqlite3 in the server's core": (
        "pure-cores",
        {"proctor_server/core/_probe.py": "import sqlite3\n"},
    ),
    "os.path in shared": ("pure-cores", {"shared/_probe.py": "import os.path\n"}),
    "Qt in the client's core": (
        "pure-cores",
        {"proctor_client/core/_probe.py": "from PySide6.QtCore import QObject\n"},
    ),
    # the server's core stays inside itself
    "the server's core imports a server module": (
        "server-core",
        {
            "proctor_server/_helper.py": "HELPER = 1\n",
            "proctor_server/core/_probe.py": "from proctor_server._helper import HELPER\n",
        },
    ),
    # the store serves features without importing them
    "the store imports the programme": (
        "store-no-features",
        {"proctor_server/store/_probe.py": "from proctor_server.programme import schema\n"},
    ),
    # image libraries only in shared.vision
    "numpy in shared's rules": ("vision-libraries", {"shared/_probe.py": "import numpy\n"}),
    "shared's rules import shared.vision": (
        "vision-libraries",
        {"shared/_probe.py": "from shared.vision import quality\n"},
    ),
    # Qt
    "Qt in the client's runtime": (
        "qt",
        {"proctor_client/runtime/_probe.py": "from PySide6.QtCore import QObject\n"},
    ),
    "Qt in the server": ("qt", {"proctor_server/_probe.py": "from PySide6 import QtGui\n"}),
    "qasync outside the ui's composition root": (
        "qt",
        {"proctor_client/ui/_probe.py": "import qasync\n"},
    ),
    # the client's shape
    "devices import the ui": (
        "client-ui-on-top",
        {"proctor_client/devices/_probe.py": "import proctor_client.ui\n"},
    ),
    "devices import the runtime": (
        "client-layers",
        {"proctor_client/devices/_probe.py": "import proctor_client.runtime\n"},
    ),
    "devices import the outbox (independent siblings)": (
        "client-layers",
        {"proctor_client/devices/_probe.py": "from proctor_client import outbox\n"},
    ),
    # the server's command line
    "the server imports its command line": (
        "server-commands-on-top",
        {"proctor_server/_probe.py": "import proctor_server.commands\n"},
    ),
    # wire JSON
    "from json import loads in the client's runtime": (
        "wire-json",
        {"proctor_client/runtime/_probe.py": "from json import loads\n"},
    ),
    "json in a new server module": (
        "wire-json",
        {
            "proctor_server/_probe.py": (
                "def parse(data: bytes) -> object:\n"
                "    from json import loads\n\n"
                "    return loads(data)\n"
            )
        },
    ),
    "json in shared": ("wire-json", {"shared/_probe.py": "import json\n"}),
}


def test_every_contract_has_a_violation() -> None:
    assert {contract for contract, _ in VIOLATIONS.values()} == CONTRACTS


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_tree(tmp_path_factory.mktemp("pristine"))


@pytest.mark.parametrize(("contract", "files"), VIOLATIONS.values(), ids=VIOLATIONS.keys())
def test_a_violation_breaks_its_contract(
    contract: str, files: dict[str, str], pristine: Path, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    for package in ("shared", "proctor_server", "proctor_client"):
        _link_copy(pristine / package, tree / package)
    (tree / "pyproject.toml").write_bytes((pristine / "pyproject.toml").read_bytes())
    inject(tree, files)
    assert contracts(tree, only=(contract,)) == {contract: False}
    for name in files:  # the pristine copy, shared by every case, is left as it was
        if (ROOT / name).exists():
            assert (pristine / name).read_bytes() == (ROOT / name).read_bytes()


def _link_copy(src: Path, dest: Path) -> None:
    """A copy made of hard links (cheap); files about to be injected into are rewritten,
    never written through the link, so the pristine copy stays pristine."""
    for path in src.rglob("*"):
        target = dest / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.hardlink_to(path)


# What import-linter cannot see ---------------------------------------------------------


def test_the_cores_call_no_io_builtin_and_no_clock() -> None:
    assert core_io_calls(ROOT) == []


@pytest.mark.parametrize(
    ("module", "source", "found"),
    [
        ("shared/_probe.py", "def f() -> str:\n    return open('x').read()\n", "open()"),
        ("proctor_server/core/_probe.py", "print('score')\n", "print()"),
        ("proctor_client/core/_probe.py", "name = input()\n", "input()"),
        (
            "proctor_server/core/_probe.py",
            "from datetime import UTC, datetime\n\nNOW = datetime.now(UTC)\n",
            ".now()",
        ),
        ("shared/_probe.py", "import datetime\n\nTODAY = datetime.date.today()\n", ".today()"),
    ],
)
def test_an_io_builtin_or_a_clock_in_a_core_is_found(
    module: str, source: str, found: str, tmp_path: Path
) -> None:
    inject(tmp_path, {module: source})
    assert [call.split(" ")[1] for call in core_io_calls(tmp_path)] == [found]


def test_an_io_builtin_outside_the_cores_is_not_a_core_call(tmp_path: Path) -> None:
    inject(tmp_path, {"proctor_server/_probe.py": "print('serving')\n"})
    assert core_io_calls(tmp_path) == []


def test_msgspec_json_decoders_stand_only_where_listed() -> None:
    assert msgspec_json_decoders(ROOT) == []


@pytest.mark.parametrize(
    "source",
    [
        "import msgspec\n\nmsgspec.json.decode(b'{}')\n",
        "import msgspec.json\n\nDECODER = msgspec.json.Decoder(dict)\n",
        "from msgspec.json import decode\n",
        "from msgspec import json\n",
    ],
)
def test_a_msgspec_json_decoder_elsewhere_is_found(source: str, tmp_path: Path) -> None:
    inject(tmp_path, {"proctor_client/runtime/_probe.py": source})
    assert len(msgspec_json_decoders(tmp_path)) == 1


# Relative imports, banned by ruff ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "codes"),
    [
        ("from .errors import ProctorError\n\n__all__ = ['ProctorError']\n", ["TID252"]),
        ("from . import errors\n\n__all__ = ['errors']\n", ["TID252"]),
        ("from shared.errors import ProctorError\n\n__all__ = ['ProctorError']\n", []),
    ],
)
def test_ruff_bans_relative_imports(source: str, codes: list[str], tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())
    inject(tmp_path, {"shared/__init__.py": "", "shared/_probe.py": source})
    run = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--output-format", "json", "--no-cache", "shared"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert [d["code"] for d in json.loads(run.stdout)] == codes, run.stderr
