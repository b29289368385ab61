"""The architecture as the README draws it: areas in sub-packages, SQL only in storage, no import cycles."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ivr"
AREAS = {"voice", "flow", "verification", "calllog", "storage", "staff", "dashboard", "cli", "devtools"}
# What talks to SQLite: only ivr/storage/ may.
SQL_CALLS = {"execute", "executemany", "executescript", "query"}
TABLE_WRITES = {"insert", "insert_all", "upsert", "upsert_all", "update", "delete_where"}


def modules():
    """Every module of the package as (dotted name, path, parsed tree)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        found.append((name, path, ast.parse(path.read_text(encoding="utf-8"))))
    return found


def imported(tree):
    """The ivr modules and names a module imports, anywhere in it (functions included)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "ivr":
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_at_most_a_dozen_modules_sit_at_the_top_and_every_area_is_a_package():
    top = [path.name for path in PACKAGE.glob("*.py")]
    assert len(top) <= 12, top
    assert AREAS <= {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists()}


@pytest.mark.parametrize("name, path, tree", [module for module in modules() if ".storage" in module[0]],
                         ids=lambda value: value if isinstance(value, str) else "")
def test_storage_imports_no_flask(name, path, tree):
    assert not {module for module in imported(tree) if module.split(".")[0] in ("flask", "werkzeug")}, name


def test_sql_lives_only_in_storage():
    talking = []
    for name, path, tree in modules():
        if name.startswith("ivr.storage"):
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            method = node.func.attr
            # database.execute(...), or sqlite-utils' database["table"].insert(...)
            if method in SQL_CALLS or (method in TABLE_WRITES and isinstance(node.func.value, ast.Subscript)):
                talking.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} .{method}")
    assert talking == []


def test_there_are_no_import_cycles():
    known = {name for name, _, _ in modules()}
    graph = {name: {module for module in imported(tree) if module in known and module != name}
             for name, _, tree in modules()}
    cycles = []

    def visit(name, trail):
        for following in graph[name]:
            if following in trail:
                cycles.append(trail[trail.index(following):] + [following])
            elif following not in done:
                done.add(following)
                visit(following, trail + [following])

    done = set()
    for name in graph:
        if name not in done:
            done.add(name)
            visit(name, [name])
    # A package's __init__ importing its own modules to wire them is not a cycle of the code.
    cycles = [cycle for cycle in cycles if not any(b.startswith(a + ".") for a, b in zip(cycle, cycle[1:]))]
    assert cycles == []
