"""The client's shape, as docs/architecture.md draws it: layers that import only downwards, remotes that keep
their paths to themselves, small modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "build_status"
#: Top to bottom: a module may import its own layer and the ones below it, never one above.
LAYERS = (
    ("cli", "__main__", "arguments"),
    ("stages",),
    ("tasks",),
    ("report",),
    ("config",),
    ("remotes",),
    ("model", "junit", "junit_failures", "coverage", "xml_reports"),
    ("transport", "workflow", "redaction", "context", "errors", "__init__"),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
MODULES = sorted(path for path in PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every build_status module ``path`` imports, at the top or inside a function."""
    module = _name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("build_status")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.startswith("build_status"):
                found.add(target)
                found |= {f"{target}.{alias.name}" for alias in node.names}
    return found


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_module_is_in_a_layer():
    assert {_layer(_name(path)) for path in MODULES} <= set(RANK)


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_module_imports_a_higher_layer(path):
    own = RANK[_layer(_name(path))]
    upwards = sorted(
        target
        for target in _imports(path)
        if _layer(target) in RANK
        and RANK[_layer(target)] < own
        and (PACKAGE.parent / target.replace(".", "/")).exists()
    )
    assert upwards == []


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_client_module_is_longer_than_about_300_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 310


#: Each remote's paths and field names, and the one package that may spell them.
REMOTE_WORDS = {
    "remotes/bitbucket_dc": ("/rest/", "build-status/1.0", "richBuildStatus", "testResults", "buildNumber"),
    "remotes/bitbucket_cloud": ("/repositories/", "statuses/build", "refname", "pagelen"),
    "remotes/coveralls.py": ("/webhook", "build_num", "carryforward="),
    "remotes/webappio.py": ("/runners/", "/search", "layerfile_relative_path", "runner_index"),
}


@pytest.mark.parametrize("owner", sorted(REMOTE_WORDS))
def test_a_remote_s_paths_and_fields_are_its_own(owner):
    """Nothing outside a remote's module knows its paths or field names (docstrings and comments aside)."""
    for path in MODULES:
        if str(path.relative_to(PACKAGE)).startswith(owner):
            continue
        code = _code_only(path)
        for word in REMOTE_WORDS[owner]:
            assert word not in code, f"{path.relative_to(PACKAGE)} spells {word!r}, which belongs to {owner}"


def _code_only(path: Path) -> str:
    """The module's string constants but its docstrings and the catalogue's descriptions (documentation for
    the user, which may well name a remote's fields): what the code itself says."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    documentation = {
        id(constant)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("Input", "Output")
        for constant in ast.walk(node)
    }
    docstrings = documentation | {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return "\n".join(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    )


def test_no_two_public_functions_or_classes_share_a_name():
    seen: dict[str, str] = {}
    twice = []
    for path in MODULES:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                where = str(path.relative_to(PACKAGE))
                if node.name in seen:
                    twice.append(f"{node.name}: {seen[node.name]} and {where}")
                seen.setdefault(node.name, where)
    assert twice == []
