"""Architecture rules: only bot/forge/ talks to GitHub or git, only bot/cluster/ to Kubernetes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from project_paths import PROJECT_ROOT

BOT = PROJECT_ROOT / "bot"
ALLOWED = {"github": "forge", "git": "forge", "kubernetes": "cluster"}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def modules() -> list[Path]:
    return sorted(BOT.rglob("*.py"))


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(PROJECT_ROOT).as_posix())
def test_client_libraries_stay_behind_their_seam(path: Path) -> None:
    package = path.relative_to(BOT).parts[0]
    for root in imported_roots(path) & set(ALLOWED):
        assert package == ALLOWED[root], (
            f"{path.relative_to(PROJECT_ROOT)} imports {root}; only bot/{ALLOWED[root]}/ may"
        )


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(PROJECT_ROOT).as_posix())
def test_every_module_has_a_one_line_docstring(path: Path) -> None:
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring, f"{path.relative_to(PROJECT_ROOT)} has no module docstring"
    assert "\n" not in docstring.strip(), f"{path.relative_to(PROJECT_ROOT)}: the module docstring is one line"


def test_the_rule_catches_a_violation(tmp_path: Path) -> None:
    offender = tmp_path / "offender.py"
    offender.write_text('"""x."""\nfrom kubernetes import client\nimport github.Repository\n')
    assert imported_roots(offender) >= {"kubernetes", "github"}


def test_readme_commands_table_comes_from_the_registry() -> None:
    from bot.events.commands import help_text

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line for line in help_text().splitlines() if line.startswith("|")]
    assert "\n".join(rows) in readme, "README commands table is stale: paste the rows of help_text()"
