"""The tree's shape (issue 10): no module over 600 lines, the code that serves requests and jobs
imports nothing from a demo module, and no app module hides an import behind a module-level
__getattr__ (PEP 562), which was an import cycle in disguise."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 600
SKIP = {".venv", "migrations", "node_modules", "build", "static"}


def _sources() -> list[Path]:
    return sorted(
        p.relative_to(ROOT)
        for p in ROOT.rglob("*.py")
        if not SKIP.intersection(p.relative_to(ROOT).parts)
    )


def _serving(path: Path) -> bool:
    """Code that runs in production requests and jobs: not the tests, not the demo builders and
    not the operators' management commands (seed_demo is the demo's own entry point)."""
    parts = path.parts
    return not (
        parts[0] == "tests"
        or "demo" in path.stem
        or "commands" in parts
        or "padding_bench" in parts
    )


def test_no_module_is_over_600_lines():
    sources = _sources()
    assert len(sources) > 100  # the walk really read the tree
    long = [
        f"{p}: {n}" for p in sources if (n := len((ROOT / p).read_text().splitlines())) > MAX_LINES
    ]
    assert long == [], "split by domain into a sibling module: " + ", ".join(long)


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse((ROOT / path).read_text())):
        if isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_serving_code_imports_nothing_from_a_demo_module():
    serving = [p for p in _sources() if _serving(p)]
    assert Path("assessment/services.py") in serving
    offenders = [
        f"{p}: {name}"
        for p in serving
        for name in _imported_modules(p)
        if name.rsplit(".", 1)[-1] in {"demo", "plan_demo"} or name.endswith(".demo")
    ]
    assert offenders == [], "move what production needs out of the demo: " + ", ".join(offenders)


def test_no_app_module_defines_a_module_level_getattr():
    offenders = [
        str(p)
        for p in _sources()
        if p.parts[0] != "tests"
        and any(
            isinstance(node, ast.FunctionDef) and node.name == "__getattr__"
            for node in ast.parse((ROOT / p).read_text()).body
        )
    ]
    assert offenders == [], "import the module that defines the name instead: " + ", ".join(
        offenders
    )
