"""Session-wide hooks and fixtures: the two test tiers (own fixtures always; conformance on third-party data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from project_paths import FETCH_HINT, FIXTURES, upstream_available, upstream_required

from tests.faults import ledger

CONFORMANCE = "conformance"
LEDGER_KEY = "envbot_faults_injected"
SKIP_REASON = f"conformance: third-party fixtures not found at {FIXTURES}"


def pytest_configure(config: pytest.Config) -> None:
    if not upstream_available() and upstream_required():
        raise pytest.UsageError(
            f"the conformance tier is required here (CI=true or ENVBOT_REQUIRE_FIXTURES=1) but its third-party "
            f"fixtures are not at {FIXTURES}; set ENVBOT_FIXTURES or run `{FETCH_HINT}`"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that asks for ``fixtures_dir`` is conformance by definition; without the data, the tier is skipped."""
    for item in items:
        if "fixtures_dir" in getattr(item, "fixturenames", ()) and item.get_closest_marker(CONFORMANCE) is None:
            item.add_marker(CONFORMANCE)
    if upstream_available():
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if item.get_closest_marker(CONFORMANCE) is not None:
            item.add_marker(skip)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under pytest-xdist each worker hands its tally of injected faults to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[LEDGER_KEY] = ledger.breakdown()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    for kind, count in getattr(node, "workeroutput", {}).get(LEDGER_KEY, {}).items():
        ledger.record(kind, count)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if ledger.total():
        terminalreporter.write_sep("-", "fault injection")
        for kind, count in ledger.breakdown().items():
            terminalreporter.write_line(f"  {kind}: {count}")
        terminalreporter.write_line(f"faults injected: {ledger.total()}")
    if upstream_available():
        return
    skipped = 0
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        if isinstance(longrepr, tuple) and len(longrepr) == 3 and SKIP_REASON in str(longrepr[2]):
            skipped += 1
    terminalreporter.write_line(
        f"conformance tier: {skipped} tests skipped, third-party fixtures not found at {FIXTURES}; "
        f"get them with `{FETCH_HINT}` (or point ENVBOT_FIXTURES at a copy)"
    )


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The third-party data folder (conformance tests only; skipped when it is absent)."""
    return FIXTURES
