"""The shape of the callbacks package: small modules, and the project's imports at the top of them.

import-linter (`make lint`, `.importlinter`) checks which way the imports run; these two checks keep what it
cannot see: a module growing past a reader's size, and an import hidden inside a function to dodge a cycle.
"""

import ast
from pathlib import Path

import callbacks

PACKAGE = Path(callbacks.__file__).parent
MAX_LINES = 400
# apps.py runs while Django loads its apps: models, the admin's forms and the tasks can only be imported later.
FUNCTION_IMPORTS_ALLOWED = {"apps.py"}
# A heavy third-party module may still be imported where it is used (the QR code of the TOTP enrolment).
PROJECT = {"callbacks", "clinic", "intake"}


def modules():
    return sorted(path for path in PACKAGE.rglob("*.py") if "migrations" not in path.parts)


def test_no_module_is_longer_than_a_reader_can_hold():
    long = {
        str(path.relative_to(PACKAGE)): n for path in modules() if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def imports_project_code(node: ast.AST) -> bool:
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] in PROJECT
    if isinstance(node, ast.Import):
        return any(alias.name.split(".")[0] in PROJECT for alias in node.names)
    return False


def test_imports_sit_at_the_top_of_modules():
    hidden = []
    for path in modules():
        if path.name in FUNCTION_IMPORTS_ALLOWED:
            continue
        for function in ast.walk(ast.parse(path.read_text())):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                hidden += [
                    f"{path.relative_to(PACKAGE)}:{node.lineno}"
                    for node in ast.walk(function)
                    if imports_project_code(node)
                ]
    assert hidden == []
