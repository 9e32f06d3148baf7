"""Fail when a module of the project imports itself back through others (an import cycle), or when a
top-level package is missing from import-linter's ``root_packages`` (its contracts would not see it).

import-linter's contracts (pyproject.toml) keep the apps layered; this adds the modules of one package.
Every import that runs counts, at module level or inside a function: a lazy import only hides a cycle.
``make lint`` runs it: ``python tools/check_cycles.py``.
"""

import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def project_packages(root: Path) -> list[str]:
    """Every top-level package of the project (a directory with an ``__init__.py``)."""
    return sorted(p.parent.name for p in root.glob("*/__init__.py") if not p.parent.name.startswith("."))


def linted_packages(root: Path) -> set[str]:
    return set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"])


def find_cycles(packages: list[str]) -> list[tuple[str, ...]]:
    """One chain per cycle, from a module back to itself, the shortest way round."""
    # An import under ``if TYPE_CHECKING:`` never runs, so it cannot close a cycle.
    graph = grimp.build_graph(*packages, cache_dir=None, exclude_type_checking_imports=True)
    cycles, seen = [], set()
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back and frozenset(back) not in seen:
                seen.add(frozenset(back))
                cycles.append((importer, *back))
    return cycles


def main() -> int:
    sys.path.insert(0, str(ROOT))
    packages = project_packages(ROOT)
    unlinted = sorted(set(packages) - linted_packages(ROOT))
    if unlinted:
        print(f"add to [tool.importlinter] root_packages in pyproject.toml: {', '.join(unlinted)}")
    cycles = find_cycles(packages)
    for chain in cycles:
        print("import cycle: " + " -> ".join(chain))
    print(f"{len(cycles)} import cycles in {', '.join(packages)}")
    return 1 if cycles or unlinted else 0


if __name__ == "__main__":
    sys.exit(main())
