"""Label selectors as envbot lists with them: one label key that must be present, or none (every object)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.cluster.errors import ClusterConfigError

_KEY_RE = re.compile(r"^(?:[a-z0-9A-Z.-]+/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$")


@dataclass(frozen=True)
class LabelSelector:
    """Objects carrying the label ``key``; no key matches everything."""

    key: str | None = None

    def matches(self, labels: Mapping[str, str]) -> bool:
        return self.key is None or self.key in labels


def parse_selector(selector: str) -> LabelSelector:
    """Parse the empty selector or a bare label key (``envbot.io/environment``); any other form is refused."""
    key = selector.strip()
    if not key:
        return LabelSelector()
    if not _KEY_RE.match(key):
        raise ClusterConfigError(f"label selector {selector!r}: {key!r} is not a valid label key")
    return LabelSelector(key)
