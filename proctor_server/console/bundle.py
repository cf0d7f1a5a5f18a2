"""The console page as it is sent: `index.html` with its stylesheet and every module inline,
so that the page, its code and its style come in one response (no round trip for a module
before the first grid; the feed's socket opens from the page's head meanwhile).

The modules stay plain ES modules (`proctor_server/dashboard/`, served one by one at
`/dashboard.js` and `/console/NAME.js` too). Inlined, each becomes a function scope run in
dependency order: its `export`s are returned, and its `import { a, b } from "/console/x.js"`
lines read them from the module that exported them. The page's modules only use these two
forms (a test checks that every one of them is understood)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

IMPORT = re.compile(r'^import \{([^}]*)\} from "/console/([a-z0-9_]+)\.js";\n', re.M)
EXPORT = re.compile(r"^export (?:async )?(?:function\*?|class|const|let) ([A-Za-z_$][\w$]*)", re.M)
ENTRY = "dashboard"  # `/dashboard.js`: the page's own module, importing the others
STYLE_LINK = '<link rel="stylesheet" href="/dashboard.css">'
PRELOAD = re.compile(r'^<link rel="modulepreload" href="[^"]+">\n', re.M)
ENTRY_SCRIPT = '<script type="module" src="/dashboard.js"></script>'


class BundleError(ValueError):
    """A module uses an import or export form the bundle does not understand."""


def _scope(name: str) -> str:
    return f"__console_{name}"


def module_scope(name: str, source: str) -> tuple[str, list[str]]:
    """One module as a function scope (`const __console_NAME = (() => {...})();`) and the
    modules it imports."""
    needs: list[str] = []

    def imported(m: re.Match[str]) -> str:
        needs.append(m.group(2))
        return f"const {{{m.group(1)}}} = {_scope(m.group(2))};\n"

    body = IMPORT.sub(imported, source)
    exported = EXPORT.findall(body)
    body = EXPORT.sub(lambda m: m.group(0)[len("export ") :], body)
    if re.search(r"^\s*(import|export)\b", body, re.M) or "</script" in body:
        raise BundleError(f"{name}.js: an import or export form the bundle does not read")
    returned = ", ".join(exported)
    return f"const {_scope(name)} = (() => {{\n{body}\nreturn {{ {returned} }};\n}})();\n", needs


def bundle(read: Callable[[str], str]) -> str:
    """The entry module and every module it imports, dependencies first, as one script."""
    done: list[str] = []
    scopes: dict[str, str] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done:
            return
        if name in path:
            raise BundleError(f"modules import each other: {' -> '.join((*path, name))}")
        scope, needs = module_scope(name, read(name))
        for need in needs:
            visit(need, (*path, name))
        scopes[name] = scope
        done.append(name)

    visit(ENTRY, ())
    return "".join(scopes[name] for name in done)


def inline_page(html: str, css: str, script: str) -> str:
    """`index.html` with the stylesheet and the bundled modules in it."""
    if STYLE_LINK not in html or ENTRY_SCRIPT not in html or "</style" in css:
        raise BundleError("index.html does not load /dashboard.css and /dashboard.js as expected")
    html = PRELOAD.sub("", html)
    html = html.replace(STYLE_LINK, f"<style>\n{css}</style>")
    return html.replace(ENTRY_SCRIPT, f'<script type="module">\n{script}</script>')


@functools.cache
def console_page() -> bytes:
    """The page a signed-in proctor gets at `/`, built once."""
    from importlib import resources

    files = resources.files("proctor_server.dashboard")

    def read(name: str) -> str:  # `/console/NAME.js` and `/dashboard.js` are in one folder
        return files.joinpath(f"{name}.js").read_text("utf-8")

    html = files.joinpath("index.html").read_text("utf-8")
    css = files.joinpath("dashboard.css").read_text("utf-8")
    return inline_page(html, css, bundle(read)).encode("utf-8")
