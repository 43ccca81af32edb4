"""The layers hold: ``iam`` imports nothing from ``sts`` or ``console``, ``sts`` nothing from
``console``, ``iam.policy`` (pure Python) nothing but itself and ``iam.arns`` (pure Python too),
and no module imports in a circle (late imports inside functions count too)."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("iam", "sts", "console")
BELOW = {"iam.policy": ("iam.policy", "iam.arns"), "iam": ("iam",), "sts": ("iam", "sts")}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    }


def imported(name: str, path: Path, modules: set[str]) -> set[str]:
    """The project modules ``name`` imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imported(name, path, set(modules)) for name, path in modules.items()}


def layer_of(name: str) -> str:
    return "iam.policy" if name.startswith("iam.policy") else name.split(".")[0]


def test_each_layer_imports_only_itself_and_the_layers_below() -> None:
    wrong = [
        f"{name} imports {target}"
        for name, targets in import_graph().items()
        for target in targets
        if layer_of(name) in BELOW
        and not any(
            target == allowed or target.startswith(allowed + ".")
            for allowed in BELOW[layer_of(name)]
        )
    ]
    assert wrong == []


def test_no_module_imports_in_a_circle() -> None:
    try:
        TopologicalSorter(import_graph()).prepare()
    except CycleError as cycle:
        raise AssertionError(f"import cycle: {' -> '.join(cycle.args[1])}") from None


def test_the_walk_sees_what_it_should() -> None:
    graph = import_graph()
    assert "iam.rpc" in graph["iam.api"] and "sts.nonces" in graph["sts.front_door"]
    assert len(graph) > 50
