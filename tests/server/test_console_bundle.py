"""The console page's modules inlined in one script (`proctor_server.console.bundle`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from proctor_server.console.bundle import (
    BundleError,
    bundle,
    console_page,
    inline_page,
    module_scope,
)

DASHBOARD = Path(__file__).resolve().parents[2] / "proctor_server" / "dashboard"


@pytest.mark.parametrize(
    ("source", "scope"),
    [
        ("export function f() {}\n", "const __console_m = (() => {\nfunction f() {}\n\nreturn { f };\n})();\n"),
        ("export const A = 1;\n", "const __console_m = (() => {\nconst A = 1;\n\nreturn { A };\n})();\n"),
        ('import { a, b } from "/console/x.js";\nexport class C {}\n',
         "const __console_m = (() => {\nconst { a, b } = __console_x;\nclass C {}\n\nreturn { C };\n})();\n"),
        ("const x = 1;\n", "const __console_m = (() => {\nconst x = 1;\n\nreturn {  };\n})();\n"),
    ],
)  # fmt: skip
def test_a_module_becomes_a_scope_returning_its_exports(source: str, scope: str) -> None:
    assert module_scope("m", source)[0] == scope


@pytest.mark.parametrize(
    "source",
    [
        'import x from "/console/x.js";\n',  # a default import
        'import * as x from "/console/x.js";\n',
        "export default 1;\n",
        'export { a } from "/console/x.js";\n',
        'const s = "</script>";\n',
    ],
)
def test_a_form_the_bundle_does_not_read_is_refused(source: str) -> None:
    with pytest.raises(BundleError):
        module_scope("m", source)


def test_dependencies_come_first_and_a_cycle_is_refused() -> None:
    sources = {
        "dashboard": 'import { b } from "/console/b.js";\nimport { a } from "/console/a.js";\n',
        "a": "export const a = 1;\n",
        "b": 'import { a } from "/console/a.js";\nexport const b = a;\n',
    }
    script = bundle(sources.__getitem__)
    order = re.findall(r"^const (__console_\w+) = \(", script, re.M)
    assert order == ["__console_a", "__console_b", "__console_dashboard"]
    sources["a"] = 'import { b } from "/console/b.js";\nexport const a = 1;\n'
    with pytest.raises(BundleError, match="import each other"):
        bundle(sources.__getitem__)


def test_the_page_carries_every_module_and_the_style() -> None:
    page = console_page().decode()
    for module in DASHBOARD.glob("*.js"):
        assert f"const __console_{module.stem} = " in page
    assert (DASHBOARD / "dashboard.css").read_text() in page
    assert "window.__earlyFeed" in page  # the head's socket still opens first
    assert page.index("window.__earlyFeed") < page.index("<style>")
    with pytest.raises(BundleError):
        inline_page("<html></html>", "", "")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_bundled_script_parses(tmp_path: Path) -> None:
    page = console_page().decode()
    start = page.index('<script type="module">') + len('<script type="module">')
    script = tmp_path / "console.mjs"
    script.write_text(page[start : page.index("</script>", start)])
    subprocess.run(["node", "--check", str(script)], check=True)
