"""Only bot/cluster/ talks to Kubernetes, and it imports the client lazily so ``envbot --help`` stays fast."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import bot

BOT = Path(bot.__file__).resolve().parent
KUBE_MODULES = ("kubernetes", "kmock")
LAZY_MODULES = ("kubernetes", "urllib3")  # heavy: loaded only once a KubeCluster is built


def imported_modules(path: Path) -> list[tuple[int, str, bool]]:
    """(line, module, at module level?) for every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    top_level = {id(node) for node in tree.body}
    found: list[tuple[int, str, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, id(node) in top_level) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module, id(node) in top_level))
    return found


def test_only_bot_cluster_imports_the_kubernetes_client() -> None:
    offenders = [
        f"{path.relative_to(BOT.parent)}:{line}: {module}"
        for path in sorted(BOT.rglob("*.py"))
        if "cluster" not in path.relative_to(BOT).parts[:1]
        for line, module, _ in imported_modules(path)
        if module.split(".")[0] in KUBE_MODULES
    ]
    assert not offenders, "Kubernetes is bot/cluster/'s business:\n" + "\n".join(offenders)


def test_bot_cluster_imports_the_client_only_inside_functions() -> None:
    offenders = [
        f"{path.relative_to(BOT.parent)}:{line}: {module}"
        for path in sorted((BOT / "cluster").rglob("*.py"))
        for line, module, top in imported_modules(path)
        if top and module.split(".")[0] in LAZY_MODULES
    ]
    assert not offenders, "import the kubernetes client lazily, inside KubeCluster:\n" + "\n".join(offenders)


def test_importing_bot_cluster_does_not_load_the_client() -> None:
    code = "import sys, bot.cluster; print(sorted(m for m in ('kubernetes', 'urllib3') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=BOT.parent)
    assert result.stdout.strip() == "[]"
