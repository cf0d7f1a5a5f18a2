"""Import rules that keep the design easy to change (DESIGN.md): the pure cores do no I/O,
the server does not depend on the client, and only the wire module parses wire JSON."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IO_MODULES = {
    "asyncio",
    "socket",
    "sqlite3",
    "websockets",
    "aiortc",
    "subprocess",
    "threading",
    "urllib",
    "http",
    "PySide6",
    "qasync",
    "smtplib",
    "concurrent",
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(*folders: str) -> list[Path]:
    return [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))]


PURE = [
    p
    for p in modules("shared", "proctor_server/core", "proctor_client/core")
    if "vision" not in p.parts  # image functions: numpy/OpenCV, but no I/O either
] + [p for p in modules("shared/vision") if p.name != "models.py"]  # models.py loads model files


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_cores_do_no_io(path: Path) -> None:
    bad = {m for m in imports(path) if m.split(".")[0] in IO_MODULES}
    assert bad == set(), f"{path.relative_to(ROOT)} imports {bad}"


def test_the_server_does_not_import_the_client() -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(m for m in imports(p) if m.startswith("proctor_client"))
        for p in modules("proctor_server", "shared")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


WIRE_HANDLERS = [
    "proctor_server/app.py",
    "proctor_server/candidate.py",
    "proctor_server/exams.py",
    "proctor_server/http.py",
    "proctor_client/runtime",
    "proctor_client/core",
    "proctor_client/ui",
]


def test_wire_json_is_parsed_in_one_place() -> None:
    """Candidate wire data is decoded only by shared/protocol.py (msgspec, against the schema):
    a `json.loads` in a module that handles it would bypass the schema."""
    paths = [p for w in WIRE_HANDLERS for p in ([ROOT / w] if w.endswith(".py") else modules(w))]
    assert len(paths) > 10
    offenders = [
        str(p.relative_to(ROOT)) for p in paths if "json.loads" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []
