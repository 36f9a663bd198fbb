"""The package's shape: no import cycle, one module that reads the environment, one state rule."""

import ast
import json
import os

from conftest import REPO_DIR

import trackline._meta as meta

PACKAGE_DIR = os.path.join(REPO_DIR, "python", "trackline")


def _modules():
    for name in sorted(os.listdir(PACKAGE_DIR)):
        if name.endswith(".py"):
            path = os.path.join(PACKAGE_DIR, name)
            with open(path, encoding="utf-8") as f:
                yield name[:-3], ast.parse(f.read(), path)


def _imports(tree):
    """The package modules ``tree`` imports (``from . import _x``, ``from ._x import y``), at any depth."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                out.add(node.module.split(".")[0])
            else:
                out.update(alias.name for alias in node.names)
    return out


def _cycle(graph):
    """One import cycle in ``graph`` as a list of modules, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == "open":
                return path[path.index(dep):] + [dep]
            if dep not in state:
                found = visit(dep, path + [dep])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_in_the_package():
    # Every relative import counts, also those inside functions (imported lazily to keep `import
    # trackline` light): a lazy import hides a cycle from Python but not from a reader.
    # __init__ is left out: it is the public face that imports everything, and nothing imports it.
    graph = {name: _imports(tree) - {"__init__"} for name, tree in _modules() if name != "__init__"}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_only_env_reads_the_environment():
    offenders = []
    for name, tree in _modules():
        if name == "_env":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"):
                if isinstance(node.value, ast.Name) and node.value.id in ("os", "_os"):
                    offenders.append("%s.py:%d" % (name, node.lineno))
    assert offenders == [], "read the environment through _env.py: %s" % offenders


def test_state_derivation_matches_the_shared_cases():
    with open(os.path.join(REPO_DIR, "tests", "fixtures", "run_state_cases.json")) as f:
        fixture = json.load(f)
    assert fixture["heartbeat_timeout_secs"] == meta.HEARTBEAT_TIMEOUT
    assert len(fixture["cases"]) >= 5
    for case in fixture["cases"]:
        assert meta.derive_state(case["run"], case["now"]) == case["state"], case["name"]
