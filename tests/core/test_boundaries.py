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


# -- which package may import which ---------------------------------------------------------------------------

ENTRY_POINTS = frozenset({"__main__", "action", "agent", "cli", "connect", "demo"})
"""Wiring: they may import any package."""
BASE = frozenset({"errors", "names", "clock", "durations", "yamldoc", "text", "documents"})
CORE = frozenset({"catalog", "environment", "render", "reconcile"})
SEAMS = frozenset({"forge", "cluster"})
LAYERS: dict[str, frozenset[str]] = {
    "__init__": frozenset(),
    "examples": frozenset(),
    "errors": frozenset(),
    "names": frozenset(),
    "clock": frozenset(),
    "durations": frozenset(),
    "yamldoc": frozenset({"errors"}),
    "documents": frozenset({"errors", "names", "durations"}),
    "text": frozenset(),
    "catalog": BASE,
    "environment": BASE | {"catalog"},
    "render": BASE | {"catalog", "environment"},
    "forge": BASE,
    "cluster": BASE | {"environment"},
    "reconcile": BASE | {"catalog", "environment", "render", "forge", "cluster"},
    "report": BASE | {"environment", "forge", "cluster", "reconcile"},
    "events": BASE | {"catalog", "environment", "forge"},
    "simulation": BASE | {"catalog", "environment", "render", "forge", "cluster"},
    "catalog_files": BASE | {"catalog"},
    "config": BASE | CORE | {"cluster", "events"},
}
"""The packages (and top-level modules) of bot/ each may import, besides itself; the entry points may import all."""
KNOWN_BACK_EDGES: frozenset[tuple[str, str]] = frozenset()
"""Imports against the table that issue 15 removes; each one gone must leave this set too (the test says so)."""


def package_imports() -> dict[str, set[str]]:
    """For each package (or top-level module) of bot/, the other ones it imports."""
    found: dict[str, set[str]] = {}
    for path in modules():
        parts = path.relative_to(BOT).parts
        package = parts[0] if len(parts) > 1 else path.stem
        targets = found.setdefault(package, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            targets.update(n.split(".")[1] for n in names if n.startswith("bot.") and n.split(".")[1] != package)
    return found


def against_the_table(imports: dict[str, set[str]]) -> list[tuple[str, str]]:
    """The (package, what it imports) pairs the layer table does not allow, known back edges aside."""
    return sorted(
        (package, target)
        for package, targets in imports.items()
        if package not in ENTRY_POINTS
        for target in targets - LAYERS.get(package, frozenset())
        if (package, target) not in KNOWN_BACK_EDGES
    )


def test_packages_import_only_what_the_layer_table_allows() -> None:
    imports = package_imports()
    unknown = set(imports) - set(LAYERS) - ENTRY_POINTS
    assert not unknown, f"packages missing from LAYERS: {sorted(unknown)}"
    wrong = against_the_table(imports)
    assert not wrong, f"imports the layer table does not allow (package, what it imports): {wrong}"
    gone = sorted(edge for edge in KNOWN_BACK_EDGES if edge[1] not in imports.get(edge[0], set()))
    assert not gone, f"fixed: take {gone} out of KNOWN_BACK_EDGES"


def test_the_layer_table_points_one_way() -> None:
    """No package may reach itself through the table: the layers form a hierarchy."""

    def reachable(start: str) -> set[str]:
        seen: set[str] = set()
        todo = list(LAYERS[start])
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(LAYERS.get(current, ()))
        return seen

    assert [package for package in LAYERS if package in reachable(package)] == []


def test_the_layer_rule_catches_a_back_edge() -> None:
    """The imports this increment removed, and a base module reaching up into the core, are each caught."""
    imports = package_imports()
    assert against_the_table({**imports, "reconcile": imports["reconcile"] | {"config"}}) == [("reconcile", "config")]
    assert against_the_table({"names": {"reconcile"}, "forge": {"report"}}) == [
        ("forge", "report"),
        ("names", "reconcile"),
    ]


# -- the core reads no file, no clock and no environment: they come in as arguments ------------------------------

PURE_PACKAGES = ("catalog", "environment", "render", "reconcile", "events")
"""The core: decisions over values; files, the clock and the environment reach it only as arguments."""
IMPURE_MODULES = frozenset(
    {"os", "sys", "time", "shutil", "subprocess", "tempfile", "socket", "glob", "io", "random", "uuid", "urllib"}
)
FILE_CALLS = frozenset(
    {"open", "read_text", "read_bytes", "write_text", "write_bytes", "iterdir", "rglob", "glob", "exists", "is_file",
     "is_dir", "mkdir", "unlink", "stat", "touch", "rename", "resolve"}
)  # fmt: skip
CLOCK_CALLS = frozenset({"now", "utcnow", "today", "time", "monotonic", "perf_counter"})
WALL_CLOCK_NAMES = frozenset({"utc_now", "WALL_CLOCK"})


def impurities(source: str) -> list[str]:
    """Each way ``source`` reaches the file system, the clock or the environment, as ``line: what``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            found += [f"{line}: import {a.name}" for a in node.names if a.name.split(".")[0] in IMPURE_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            root = node.module.split(".")[0]
            names = [a.name for a in node.names]
            if root in IMPURE_MODULES:
                found.append(f"{line}: from {node.module} import {', '.join(names)}")
            elif root == "pathlib" and any(not name.startswith("Pure") for name in names):
                found.append(f"{line}: from pathlib import {', '.join(names)} (only the Pure paths are values)")
            elif node.module == "bot.clock" and WALL_CLOCK_NAMES & set(names):
                found.append(f"{line}: the wall clock from bot.clock")
        elif isinstance(node, ast.Call):
            called = node.func
            if isinstance(called, ast.Name) and called.id in {"open", "input"}:
                found.append(f"{line}: {called.id}()")
            elif isinstance(called, ast.Attribute) and called.attr in FILE_CALLS | CLOCK_CALLS:
                found.append(f"{line}: {ast.unparse(called)}()")
    return sorted(found, key=lambda entry: int(entry.split(":")[0]))


@pytest.mark.parametrize(
    "path",
    [path for package in PURE_PACKAGES for path in sorted((BOT / package).rglob("*.py"))],
    ids=lambda p: p.relative_to(PROJECT_ROOT).as_posix(),
)
def test_the_core_reads_no_file_clock_or_environment(path: Path) -> None:
    assert impurities(path.read_text(encoding="utf-8")) == []


def test_the_purity_rule_catches_each_kind() -> None:
    source = (
        '"""x."""\nimport os\nfrom pathlib import Path, PurePosixPath\nfrom bot.clock import utc_now\n'
        "text = open('f').read()\nwhen = dt.datetime.now(dt.UTC)\nPath('x').read_text()\n"
    )
    assert impurities(source) == [
        "2: import os",
        "3: from pathlib import Path, PurePosixPath (only the Pure paths are values)",
        "4: the wall clock from bot.clock",
        "5: open()",
        "6: dt.datetime.now()",
        "7: Path('x').read_text()",
    ]


def test_the_rule_catches_a_violation(tmp_path: Path) -> None:
    offender = tmp_path / "offender.py"
    offender.write_text('"""x."""\nfrom kubernetes import client\nimport github.Repository\n')
    assert imported_roots(offender) >= {"kubernetes", "github"}


def test_action_docs_commands_table_comes_from_the_registry() -> None:
    from bot.events.commands import REGISTRY

    action_docs = (PROJECT_ROOT / "docs" / "action.md").read_text(encoding="utf-8")
    rows = [line for line in REGISTRY.help_text().splitlines() if line.startswith("|")]
    assert "\n".join(rows) in action_docs, (
        "docs/action.md commands table is stale: paste the rows of REGISTRY.help_text()"
    )


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
