"""The shape of the package, computed from the code (imports read with ``ast``).

Prints, as its last line::

    package_cycles=<n> upward_imports=<n> search_init_args=<n> plugin_apis=<n>
    trainer_cuda_branches=<n> fit_lines=<n> search_private_collections=<n>
    contribution_impls=<n> assembly_sites=<n> readme_lines=<n>

* ``package_cycles``: elementary cycles in the import graph between evonas's sub-packages
  (``evonas.engine``, ``evonas.strategy``, ...; top-level modules such as ``evonas.api`` are
  nodes of their own; imports of the package root are counted below instead).
* ``upward_imports``: import statements, anywhere in a module (function bodies and
  ``TYPE_CHECKING`` blocks included), of ``evonas`` itself, ``evonas.api`` or ``evonas.cli``
  from any module other than those (and ``evonas.__main__``).
* ``search_init_args``: parameters of the search loop's constructor (``Search.__init__``,
  ``self`` excluded).
* ``plugin_apis``: distinct ways plug-ins register: each module-level ``def register*``
  function is a mechanism of its own; registering through the shared ``Registry`` counts once.
* ``trainer_cuda_branches``: tests of the device kind (``_cuda``, ``.is_cuda``, ``"cuda"``
  compared) in the trainer's modules other than its device profile (``profile.py``, the one
  place that decides what a device is like).
* ``fit_lines``: lines of ``Trainer._fit`` (the training loop), signature and docstring
  included.
* ``search_private_collections``: attributes of ``Search`` assigned a dict, list, set, deque
  (or a comprehension) whose names start with ``_``.
* ``contribution_impls``: call sites of ``contribution_weights`` (choosing parents by
  hypervolume contribution) outside ``evonas/core``.
* ``assembly_sites``: functions that construct ``Search(...)``.
* ``readme_lines``: lines of the README.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator
from pathlib import Path

TOP = {"evonas", "evonas.api", "evonas.cli", "evonas.__main__"}


def modules(root: Path) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), ast.parse(path.read_text(encoding="utf-8"))


def imported(name: str, tree: ast.Module) -> Iterator[str]:
    """Absolute names of the evonas modules (or objects) ``tree`` imports."""
    package = name if _is_package(name) else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base


_PACKAGES: set[str] = set()


def _is_package(name: str) -> bool:
    return name in _PACKAGES


def unit(module: str) -> str:
    """``evonas.engine.search`` -> ``evonas.engine``; ``evonas.api`` -> ``evonas.api``."""
    return ".".join(module.split(".")[:2])


def simple_cycles(graph: dict[str, set[str]]) -> int:
    """Number of elementary cycles (each counted once, from its smallest node)."""
    count = 0
    nodes = sorted(graph)

    def walk(start: str, node: str, seen: list[str]) -> None:
        nonlocal count
        for nxt in graph.get(node, ()):
            if nxt == start:
                count += 1
            elif nxt > start and nxt not in seen:
                walk(start, nxt, [*seen, nxt])

    for start in nodes:
        walk(start, start, [start])
    return count


def measure(root: Path) -> dict[str, int]:
    parsed = dict(modules(root))
    _PACKAGES.update(
        ".".join(p.relative_to(root.parent).parts)
        for p in root.rglob("__init__.py")
        for p in [p.parent]
    )
    graph: dict[str, set[str]] = {}
    upward = 0
    for name, tree in parsed.items():
        for target in imported(name, tree):
            if not (target == "evonas" or target.startswith("evonas.")):
                continue
            if name not in TOP and (target in TOP or target == "evonas"):
                upward += 1
            src, dst = unit(name), unit(target)
            if "evonas" in (src, dst) or src == dst:
                continue  # the package root re-exports; imports of it are counted above
            graph.setdefault(src, set()).add(dst)
    init_args = -1
    plugin_defs = 0
    uses_registry = False
    for tree in parsed.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == "Search":
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                        a = item.args
                        init_args = len(a.posonlyargs) + len(a.args) - 1 + len(a.kwonlyargs)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                uses_registry |= node.func.id == "Registry"
        for node in tree.body:  # module level only: Registry's own methods are the shared way
            if isinstance(node, ast.FunctionDef) and node.name.startswith("register"):
                plugin_defs += 1
    return {
        **_shape_fields(root, parsed),
        "package_cycles": simple_cycles(graph),
        "upward_imports": upward,
        "search_init_args": init_args,
        "plugin_apis": plugin_defs + int(uses_registry),
    }


COLLECTIONS = {"dict", "list", "set", "deque", "defaultdict", "OrderedDict"}


def _is_collection(value: ast.expr) -> bool:
    if isinstance(value, ast.Dict | ast.List | ast.Set | ast.DictComp | ast.ListComp | ast.SetComp):
        return True
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id in COLLECTIONS
    )


def _cuda_test(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute) and node.attr in ("_cuda", "is_cuda"):
        return True
    if isinstance(node, ast.Compare):
        parts = [node.left, *node.comparators]
        return any(isinstance(p, ast.Constant) and p.value == "cuda" for p in parts)
    return False


def _shape_fields(root: Path, parsed: dict[str, ast.Module]) -> dict[str, int]:
    cuda = 0
    for name, tree in parsed.items():
        if name.startswith("evonas.trainer") and name != "evonas.trainer.profile":
            cuda += sum(_cuda_test(n) for n in ast.walk(tree))
    fit_lines = -1
    private = set()
    contribution = 0
    assembly = set()
    for name, tree in parsed.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == "Trainer":
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name == "_fit":
                        fit_lines = (item.end_lineno or item.lineno) - item.lineno + 1
            if isinstance(node, ast.ClassDef) and node.name == "Search":
                for sub in ast.walk(node):
                    targets = []
                    if isinstance(sub, ast.Assign):
                        targets, value = sub.targets, sub.value
                    elif isinstance(sub, ast.AnnAssign) and sub.value is not None:
                        targets, value = [sub.target], sub.value
                    for t in targets:
                        if (
                            isinstance(t, ast.Attribute)
                            and isinstance(t.value, ast.Name)
                            and t.value.id == "self"
                            and t.attr.startswith("_")
                            and _is_collection(value)
                        ):
                            private.add(t.attr)
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if called == "contribution_weights" and not name.startswith("evonas.core"):
                    contribution += 1
            if isinstance(node, ast.FunctionDef):
                for sub in ast.walk(node):
                    if (
                        isinstance(sub, ast.Call)
                        and isinstance(sub.func, ast.Name)
                        and sub.func.id == "Search"
                    ):
                        assembly.add(f"{name}.{node.name}")
    readme = root.parent / "README.md"
    return {
        "trainer_cuda_branches": cuda,
        "fit_lines": fit_lines,
        "search_private_collections": len(private),
        "contribution_impls": contribution,
        "assembly_sites": len(assembly),
        "readme_lines": len(readme.read_text(encoding="utf-8").splitlines())
        if readme.exists()
        else -1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = Path(__file__).resolve().parent.parent / "evonas"
    parser.add_argument("--root", type=Path, default=default, help="the evonas package folder")
    args = parser.parse_args()
    m = measure(args.root.resolve())
    order = [
        "package_cycles",
        "upward_imports",
        "search_init_args",
        "plugin_apis",
        "trainer_cuda_branches",
        "fit_lines",
        "search_private_collections",
        "contribution_impls",
        "assembly_sites",
        "readme_lines",
    ]
    print(" ".join(f"{k}={m[k]}" for k in order))


if __name__ == "__main__":
    main()
