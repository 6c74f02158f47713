"""The import layers of ``toto_bench`` (docs/architecture.md), read from the source with ``ast``.

Bottom to top: ``metrics`` → ``adapters`` → ``engine`` → ``suites`` → ``studies`` → ``boards`` → ``cli``. A
module may import its own layer and the layers below, never one above; every import counts (module level,
inside functions, under ``TYPE_CHECKING``). The package root (``toto_bench/__init__``) imports nothing of
ours. Separately, module-level imports (the ones executed on import) form no cycle between modules.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: source folder → import prefix (pyproject's package-dir)
FOLDERS = {"bench": "toto_bench", "adapters": "toto_bench.adapters", "metrics": "toto_bench.metrics"}
LAYERS = ("metrics", "adapters", "engine", "suites", "studies", "boards", "cli")


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for folder, prefix in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([prefix, *parts])] = path
    return out


MODULES = _modules()


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "root"
    if parts[1] in LAYERS:
        return parts[1]
    return "root"  # a top-level module of toto_bench (none today besides __init__)


def _imports(path: Path, *, module_level_only: bool) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    module = next(m for m, p in MODULES.items() if p == path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    nodes: list[ast.AST]
    if module_level_only:
        nodes = []
        for node in tree.body:  # skip `if TYPE_CHECKING:` blocks and function bodies
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            nodes.extend(ast.walk(node) if isinstance(node, (ast.Import, ast.ImportFrom, ast.Try)) else [])
    else:
        nodes = list(ast.walk(tree))
    out: list[tuple[int, str]] = []
    for node in nodes:
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base]).strip(".")
            for alias in node.names:  # `from pkg import module` imports the module
                full = f"{base}.{alias.name}"
                out.append((node.lineno, full if full in MODULES else base))
    return [(line, name) for line, name in out if name == "toto_bench" or name.startswith("toto_bench.")]


def _allowed(source: str, target: str) -> bool:
    src, dst = _layer(source), _layer(target)
    if src == "root":
        return False  # the package root imports nothing of ours
    if target == "toto_bench":
        return True  # __version__
    if src == "cli":
        return True
    return dst != "root" and LAYERS.index(dst) <= LAYERS.index(src)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_layer_above_its_own(module: str) -> None:
    path = MODULES[module]
    bad = [
        f"{path.relative_to(ROOT)}:{line}: {module} ({_layer(module)}) imports {target} ({_layer(target)})"
        for line, target in _imports(path, module_level_only=False)
        if not _allowed(module, target)
    ]
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_the_package_root_imports_nothing_of_ours() -> None:
    assert _imports(MODULES["toto_bench"], module_level_only=False) == []


def test_module_level_imports_have_no_cycle() -> None:
    graph = {
        m: sorted({t for _, t in _imports(p, module_level_only=True) if t in MODULES and t != m})
        for m, p in MODULES.items()
    }
    # a package's __init__ importing its own submodules is the ordinary pattern, not a cycle
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                pairs = itertools.pairwise(cycle)
                nested = (a.startswith(b + ".") or b.startswith(a + ".") for a, b in pairs)
                if not all(nested):
                    cycles.append(cycle)
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [
        ("toto_bench.metrics.evaluate", "toto_bench.adapters.base", False),
        ("toto_bench.adapters.contract", "toto_bench.engine.forecasting", False),
        ("toto_bench.engine.runner", "toto_bench.suites.lsf", False),
        ("toto_bench.suites.lsf", "toto_bench.boards.lsf_board", False),
        ("toto_bench.engine.runner", "toto_bench.adapters.base", True),
        ("toto_bench.boards.report", "toto_bench.suites", True),
        ("toto_bench.cli.run", "toto_bench.engine.runner", True),
    ],
)
def test_the_layer_rule_itself(source: str, target: str, allowed: bool) -> None:
    assert _allowed(source, target) is allowed
