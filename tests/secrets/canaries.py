"""Canary values and the scanners that look for them everywhere envbot could have put them.

This folder has no ``__init__.py`` on purpose: ``tests/`` is on ``sys.path`` (``pythonpath`` in pyproject.toml), so
a package named ``secrets`` there would replace the standard library's ``secrets`` module for every later
``import secrets`` (bot/report/github_actions.py draws its output delimiters from it). Import this module as
``tests.secrets.canaries``; ``test_this_folder_does_not_shadow_the_standard_library_secrets_module`` guards it.
"""

from __future__ import annotations

import json
import logging
import secrets
import subprocess
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakes.github_api import FakeGitHub


def canary(name: str) -> str:
    """A unique random string no code path could produce by chance."""
    return f"canary-{name}-{secrets.token_hex(12)}"


@dataclass
class Scan:
    """Every place looked at, and how often each canary was found in it."""

    canaries: Mapping[str, str]
    """What the canary stands for → the canary."""
    found: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(where, what) → occurrences."""
    places: int = 0
    scanned_bytes: int = 0

    def look(self, where: str, data: bytes | str) -> None:
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        self.places += 1
        self.scanned_bytes += len(raw)
        for what, value in self.canaries.items():
            hits = raw.count(value.encode())
            if hits:
                self.found[where, what] += hits

    @property
    def total(self) -> int:
        return sum(self.found.values())

    def report(self) -> str:
        lines = [f"canary found: {self.total} times ({self.places} places, {self.scanned_bytes} bytes scanned)"]
        lines += [f"  {what} in {where}: {count}" for (where, what), count in sorted(self.found.items())]
        return "\n".join(lines)

    # -- sources ---------------------------------------------------------------------------------------------

    def git_repository(self, name: str, path: Path) -> int:
        """Every object of a bare repository (all refs, refs/envbot/* included, and unreachable objects), and
        every plain file beside the object store (refs, packed-refs, reflogs, config). Returns the object count."""
        everything = subprocess.run(
            ["git", "-C", str(path), "cat-file", "--batch-all-objects", "--batch"], check=True, capture_output=True
        ).stdout
        self.look(f"{name}: git objects", everything)
        listed = subprocess.run(
            ["git", "-C", str(path), "cat-file", "--batch-all-objects", "--batch-check"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
        refs = subprocess.run(
            ["git", "-C", str(path), "for-each-ref", "--format=%(refname) %(objectname)"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        self.look(f"{name}: refs", refs)
        for file in sorted(path.rglob("*")):
            relative = file.relative_to(path).as_posix()
            if file.is_file() and not relative.startswith("objects/"):
                self.look(f"{name}: {relative}", file.read_bytes())
        return len(listed)

    def fake_github(self, name: str, fake: FakeGitHub) -> None:
        """Everything the GitHub fake holds (blobs, trees, commits, refs, pull requests, comments, statuses) and
        every request it was sent (so comments edited or deleted since, and every status ever set, count too)."""
        for sha, blob in fake.blobs.items():
            self.look(f"{name}: blob {sha[:10]}", blob)
        self.look(f"{name}: trees", json.dumps(fake.trees))
        self.look(
            f"{name}: commits", json.dumps([[c.sha, c.tree, c.parents, c.message] for c in fake.commits.values()])
        )
        self.look(f"{name}: refs", json.dumps(fake.refs))
        for number, pr in fake.pulls.items():
            self.look(f"{name}: pull request #{number}", json.dumps(pr, default=sorted))
        for cid, comment in fake.comments.items():
            self.look(f"{name}: comment {cid}", comment["body"])
        self.look(f"{name}: statuses", json.dumps(fake.statuses))
        for index, call in enumerate(fake.calls):
            self.look(
                f"{name}: request {index} {call.method} {call.operation}",
                json.dumps([call.path, call.query, call.body]),
            )

    def files(self, name: str, paths: Iterable[Path]) -> None:
        for path in paths:
            self.look(f"{name}: {path.name}", path.read_bytes())

    def log_records(self, name: str, records: Iterable[logging.LogRecord]) -> int:
        """Each record as a handler would format it, and its raw arguments."""
        count = 0
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        for record in records:
            count += 1
            self.look(f"{name}: {record.name}", formatter.format(record) + repr(record.args))
        return count


def observed_statuses(objects: Iterable[Any]) -> str:
    """What a cluster reported (to prove the sensitive canaries were really put in front of envbot)."""
    return json.dumps([getattr(o, "status", None) for o in objects], default=str)
