"""Qt stays inside proctor_client/ui: nothing else imports it, and the command line (with
`check`) works without loading it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
QT_MODULES = ("PySide6", "qasync", "shiboken6")


def qt_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        found += [n for n in names if n.split(".")[0] in QT_MODULES]
    return found


def test_qt_is_imported_only_in_the_ui_package() -> None:
    offenders = {}
    for package in ("shared", "proctor_server", "proctor_client"):
        for path in (ROOT / package).rglob("*.py"):
            if (ROOT / "proctor_client" / "ui") in path.parents:
                continue
            found = qt_imports(path)
            if found:
                offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}


def test_the_ui_package_really_uses_qt() -> None:
    # The scan above would pass vacuously if it could not see imports at all.
    assert "PySide6.QtWidgets" in qt_imports(ROOT / "proctor_client" / "ui" / "main_window.py")


def test_the_command_line_does_not_load_qt() -> None:
    code = (
        "import sys; from proctor_client.cli import build_parser; build_parser(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'qasync')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
