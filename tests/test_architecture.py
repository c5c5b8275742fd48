"""The layered picture of SPEC.md §7: automation/ is pure."""

import ast
from pathlib import Path

import relance.automation

ALLOWED_ROOTS = {"relance", "pydantic", "typing_extensions"}
FORBIDDEN_RELANCE = (
    "relance.store",
    "relance.tasks",
    "relance.handlers",
    "relance.graphql",
    "relance.channels",
    "relance.plugin",
    "relance.templates",
    "relance.app",
    "relance.runtime",
    "relance.bootstrap",
    "relance.settings",
    "relance.demo",
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_automation_imports_only_the_standard_library_and_pydantic() -> None:
    import sys

    package = Path(relance.automation.__file__).parent
    offenders = []
    for path in package.rglob("*.py"):
        for name in imported_modules(path):
            root = name.split(".")[0]
            if root in sys.stdlib_module_names or root == "__future__":
                continue
            if root not in ALLOWED_ROOTS or name.startswith(FORBIDDEN_RELANCE):
                offenders.append(f"{path.name}: {name}")
    assert offenders == []
