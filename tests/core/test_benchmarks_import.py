"""The benchmark scripts import against today's code (they run outside the test suite, so a rename would go unseen)."""

from __future__ import annotations

import importlib
import sys

import pytest
from project_paths import PROJECT_ROOT

BENCHMARKS = PROJECT_ROOT / "benchmarks"


@pytest.mark.parametrize("module", sorted(path.stem for path in BENCHMARKS.glob("*.py")))
def test_every_benchmark_imports(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    for loaded in [name for name in sys.modules if name in {p.stem for p in BENCHMARKS.glob("*.py")}]:
        monkeypatch.delitem(sys.modules, loaded)
    importlib.import_module(module)
