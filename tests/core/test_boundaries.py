"""Architecture rules (only bot/forge/ talks to GitHub or git, only bot/cluster/ to Kubernetes) and docs in step."""

from __future__ import annotations

import ast
import re
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


def test_action_docs_commands_table_comes_from_the_registry() -> None:
    from bot.events.commands import help_text

    action_docs = (PROJECT_ROOT / "docs" / "action.md").read_text(encoding="utf-8")
    rows = [line for line in help_text().splitlines() if line.startswith("|")]
    assert "\n".join(rows) in action_docs, "docs/action.md commands table is stale: paste the rows of help_text()"


README_LIMIT = 10_240
FENCED_BLOCK = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def documents() -> list[Path]:
    docs = sorted((PROJECT_ROOT / "docs").glob("*.md"))
    return [PROJECT_ROOT / "README.md", *docs, PROJECT_ROOT / "benchmarks" / "README.md"]


def relative_links(markdown: str) -> list[str]:
    """The targets of inline links outside fenced code that name a path: no URL scheme, not only an anchor."""
    targets = INLINE_LINK.findall(FENCED_BLOCK.sub("", markdown))
    return [target for target in targets if not re.match(r"[a-z][a-z0-9+.-]*:|#", target)]


def test_readme_stays_short() -> None:
    size = (PROJECT_ROOT / "README.md").stat().st_size
    assert size <= README_LIMIT, f"README.md is {size} bytes, over {README_LIMIT}: move detail to docs/"


@pytest.mark.parametrize("document", documents(), ids=lambda p: p.relative_to(PROJECT_ROOT).as_posix())
def test_relative_links_point_at_existing_files(document: Path) -> None:
    broken = [
        target
        for target in relative_links(document.read_text(encoding="utf-8"))
        if not (document.parent / target.split("#", 1)[0]).exists()
    ]
    assert not broken, f"{document.relative_to(PROJECT_ROOT)} links to missing files: {', '.join(broken)}"


def test_the_link_check_sees_relative_links_only() -> None:
    markdown = (
        "[a](docs/a.md) [b](https://x.test) [c](#here) [d](../b.md#part) [e](mailto:x@y.test)\n```\n[f](g)\n```\n"
    )
    assert relative_links(markdown) == ["docs/a.md", "../b.md#part"]
