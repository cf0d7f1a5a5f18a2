"""The import rules, run on any copy of the source tree.

`contracts(tree)` checks the import-linter contracts of pyproject.toml ([tool.importlinter]) on
the packages under `tree`. Two rules import-linter cannot see are checked here on the syntax
tree: the builtins and clock calls that do I/O in the pure cores, and where a msgspec JSON
decoder may stand.
"""

from __future__ import annotations

import ast
import importlib
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import importlinter.api  # noqa: F401  (configures import-linter, as its command line does)
from importlinter.application.use_cases import create_report, read_user_options
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.layers import LayersContract
from importlinter.domain.contract import registry

# The command line registers the built-in contract types; these are the two pyproject.toml uses.
registry.register(ForbiddenContract, "forbidden")
registry.register(LayersContract, "layers")

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("shared", "proctor_server", "proctor_client")


def copy_tree(dest: Path) -> Path:
    """The three packages and pyproject.toml, copied under `dest` (sources only)."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            dest / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.qm", "*.html", "*.js"),
        )
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


@contextmanager
def _packages_found_in(tree: Path) -> Iterator[None]:
    """grimp finds a root package with importlib's find_spec, which answers from sys.modules
    first: hide the imported project packages and put `tree` first on the path meanwhile."""
    hidden = {name: sys.modules.pop(name) for name in PACKAGES if name in sys.modules}
    sys.path.insert(0, str(tree))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(str(tree))
        for name in PACKAGES:
            sys.modules.pop(name, None)
        sys.modules.update(hidden)
        importlib.invalidate_caches()


def contracts(tree: Path, only: tuple[str, ...] = ()) -> dict[str, bool]:
    """Each contract's id → whether `tree` keeps it (`only`: check just these ids)."""
    options = read_user_options(str(tree / "pyproject.toml"))
    with _packages_found_in(tree):
        report = create_report(options, limit_to_contracts=only, cache_dir=None)
    return {
        str(contract.contract_options["id"]): check.kept
        for contract, check in report.get_contracts_and_checks()
    }


def modules(tree: Path, *folders: str) -> dict[str, Path]:
    """Dotted module name → file, for every module under the given package folders."""
    found: dict[str, Path] = {}
    for folder in folders:
        for path in sorted((tree / folder).rglob("*.py")):
            parts = path.relative_to(tree).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


# The pure cores (the same three as the "pure-cores" contract).
CORES = ("shared", "proctor_server/core", "proctor_client/core")
# Builtins that read or write the outside world; import-linter sees imports, not these.
IO_BUILTINS = {"open", "input", "print", "breakpoint", "exec", "eval", "compile", "__import__"}
# `datetime.now()`, `date.today()`, `clock.now()`: a core takes `now` as a parameter.
CLOCK_CALLS = {"now", "utcnow", "today"}


def core_io_calls(tree: Path) -> list[str]:
    """Calls in the pure cores to an I/O builtin or a clock: 'module:line name'."""
    found = []
    for name, path in modules(tree, *CORES).items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in IO_BUILTINS:
                found.append(f"{name}:{node.lineno} {func.id}()")
            elif isinstance(func, ast.Attribute) and func.attr in CLOCK_CALLS:
                found.append(f"{name}:{node.lineno} .{func.attr}()")
    return found


# Where a msgspec JSON decoder may stand, and why. The candidate wire is decoded only by
# shared.protocol; every other decoder reads something that is not the wire. A new decoder
# elsewhere fails the test until it is listed here with its reason.
MSGSPEC_DECODERS = {
    "shared.protocol": "the wire: every message, against the schema",
    "shared.proctor_protocol": "the proctor channel's wire: every feed event and command",
    "shared.questions": "question bank files",
    "proctor_server.store": "the store's own columns",
    "proctor_server.media.janus_api": "Janus's API replies (the server's own link to its SFU, "
    "not a client's wire)",
    "proctor_server.cluster.signals": "what one exam-server process tells the others through "
    "the database (never a client's message)",
    "proctor_client.check.command": "the probe inputs file of the environment check",
    "proctor_client.check.network": "the server's /healthz and /ws/bandwidth replies (HTTP "
    "and the bandwidth probe, outside the candidate protocol)",
    "proctor_client.runtime.command": "the answers file of the headless command",
}
_DECODER_NAMES = {"decode", "Decoder"}


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def msgspec_json_decoders(tree: Path) -> list[str]:
    """Uses of msgspec's JSON decoder outside MSGSPEC_DECODERS: 'module:line what'."""
    found = []
    for name, path in modules(tree, *PACKAGES).items():
        if any(name == ok or name.startswith(ok + ".") for ok in MSGSPEC_DECODERS):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            what = _msgspec_json_decoder(node)
            if what:
                found.append(f"{name}:{getattr(node, 'lineno', 0)} {what}")
    return found


def _msgspec_json_decoder(node: ast.AST) -> str:
    """`msgspec.json.decode`, `msgspec.json.Decoder`, or an import that brings either in."""
    if isinstance(node, ast.Attribute) and node.attr in _DECODER_NAMES:
        if _dotted(node.value) == "msgspec.json":
            return f"msgspec.json.{node.attr}"
    elif isinstance(node, ast.ImportFrom):
        names = {alias.name for alias in node.names}
        if node.module == "msgspec" and "json" in names:
            return "from msgspec import json"
        if node.module == "msgspec.json" and names & (_DECODER_NAMES | {"*"}):
            return f"from msgspec.json import {', '.join(sorted(names))}"
    return ""
