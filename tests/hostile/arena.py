"""The hostile-input arena: one Action world shared by every case, a case type, and the runner that proves a case
was answered (an ``error:`` line, a reply, a refusal or an ignore) and that NOTHING was written.

Every case goes through the CLI entry point ``bot.cli.main([...])`` exactly as a user or the Action runs it:
``handle-event`` cases read a payload file and talk to the GitHub fake (the source repository) and to two local
bare GitOps repositories; the other cases are ``validate``, ``render``, ``provision``, ``status`` and
``catalog validate`` over files the case writes. "Nothing written" means: every ref and every object of both GitOps
repositories unchanged, no mutating request to the fake except the one reply comment a reply case expects, no
status, no new pull request or ref in the fake, no ``--out`` folder, and no job summary or step outputs.
"""

from __future__ import annotations

import copy
import enum
import json
import re
import subprocess
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from project_paths import CATALOGS

from bot.cli import main
from tests.action.support import TOKEN, ActionWorld, make_world
from tests.webhooks import payload

REPO = "acme/shop"  # the repository of our payloads
COMMENT = "issue_comment/created-on-pull-request"  # a comment on pull request #42, by nadia
PR = 42
PR_BRANCH = "feature-login"  # #42's head branch; its environment is provisioned before the first case
FORK_PR = 5
WRITER = "nadia"
ROLES = {WRITER: "write", "reader": "read", "triager": "triage"}  # anyone else: no access (404)


class Outcome(enum.Enum):
    """How envbot must answer a case."""

    ERROR = "exit 1 with error: lines on stderr"
    REPLY = "one reply comment on the pull request"
    REFUSED = "a refusal in the log (no pull request to reply on)"
    IGNORED = "one 'nothing to do' log line"
    UNTOUCHED = "acts on another (non-existent) environment; the colliding one is untouched"


@dataclass(frozen=True)
class Case:
    """One hostile input: the files it writes, the CLI arguments, and the answer expected.

    ``argv``, ``expected`` and the files' contents may use ``{case}`` (this case's folder), ``{config}`` (the shared
    world's envbot.yaml), ``{world}`` (its folder), ``{catalogs}`` (the project's catalogs) and ``{out}`` (a folder
    that must never appear).
    ``expected`` is the first line of stderr (ERROR), the reply text (REPLY) or the first stdout line (others);
    with ``prefix`` it only has to start that line. ``forbidden`` strings (canaries) must appear nowhere.
    """

    id: str
    category: str
    argv: tuple[str, ...]
    outcome: Outcome
    expected: str
    prefix: bool = False
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    setup: Callable[[Path], None] | None = None
    forbidden: tuple[str, ...] = ()


# -- building cases --------------------------------------------------------------------------------------------


def event_case(
    id: str,
    category: str,
    event_name: str,
    document: Any,
    outcome: Outcome,
    expected: str,
    *,
    prefix: bool = False,
    forbidden: tuple[str, ...] = (),
) -> Case:
    """A ``handle-event`` case: ``document`` is JSON-encoded unless it is already ``bytes`` (a broken payload)."""
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    return Case(
        id=id,
        category=category,
        argv=("handle-event", "--event-name", event_name, "--event-path", "{case}/event.json", "--config", "{config}"),
        outcome=outcome,
        expected=expected,
        prefix=prefix,
        files={"event.json": raw},
        forbidden=forbidden,
    )


def comment(body: str, **changes: Any) -> dict[str, Any]:
    """Our comment payload with another body (and any ``a__b`` field changed)."""
    return payload(COMMENT, comment__body=body, **changes)


def cli_case(
    id: str,
    category: str,
    argv: tuple[str, ...],
    expected: str,
    *,
    files: Mapping[str, str | bytes] | None = None,
    setup: Callable[[Path], None] | None = None,
    prefix: bool = False,
    forbidden: tuple[str, ...] = (),
) -> Case:
    return Case(
        id=id,
        category=category,
        argv=argv,
        outcome=Outcome.ERROR,
        expected=expected,
        prefix=prefix,
        files=files or {},
        setup=setup,
        forbidden=forbidden,
    )


# -- the world -------------------------------------------------------------------------------------------------


def _git(repository: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repository), *args], check=True, capture_output=True, text=True).stdout


def gitops_state(world: ActionWorld) -> dict[str, Any]:
    """Every ref and every object id of both GitOps repositories."""
    state: dict[str, Any] = {"refs": world.gitops_refs()}
    for which in ("platform", "apps"):
        state[which] = _git(world.root / f"{which}.git", "cat-file", "--batch-all-objects", "--batch-check")
    return state


def fake_state(world: ActionWorld) -> dict[str, Any]:
    """Everything the GitHub fake holds, but its comments (a reply case adds exactly one)."""
    fake = world.fake
    return copy.deepcopy(
        {
            "refs": fake.refs,
            "blobs": sorted(fake.blobs),
            "trees": sorted(fake.trees),
            "commits": sorted(fake.commits),
            "pulls": {n: {k: v for k, v in pr.items() if k != "head_sha"} for n, pr in fake.pulls.items()},
            "statuses": fake.statuses,
        }
    )


@dataclass
class Arena:
    world: ActionWorld
    cases_root: Path
    conversation: dict[int, dict[str, Any]] = field(default_factory=dict)
    """The pull requests' comments when the arena opened: each case starts from them (a refusal a case leaves
    would silence the next case's refusal to the same person for an hour)."""

    @property
    def config(self) -> Path:
        return self.world.config_path

    def run(self, case: Case, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        folder = self.cases_root / case.id
        folder.mkdir()
        names = {
            "case": str(folder),
            "config": str(self.config),
            "world": str(self.config.parent),
            "catalogs": str(CATALOGS),
            "out": str(folder / "out"),
        }
        for relative, content in case.files.items():
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(substitute(content, names), encoding="utf-8")
        if case.setup is not None:
            case.setup(folder)
        summary, outputs = folder / "summary.md", folder / "outputs"
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
        monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
        argv = [substitute(argument, names) for argument in case.argv]

        before_gitops, before_fake = gitops_state(self.world), fake_state(self.world)
        self.world.fake.comments = copy.deepcopy(self.conversation)
        before_comments = copy.deepcopy(self.world.fake.comments)
        first_call = len(self.world.fake.calls)
        capsys.readouterr()

        code = main(argv, timebase=self.world.clock.timebase)

        out, err = capsys.readouterr()
        expected = substitute(case.expected, names)
        writes = [c.operation for c in self.world.fake.calls[first_call:] if c.method != "GET"]
        where = f"{case.id}: exit {code}\nstdout: {out!r}\nstderr: {err!r}\nwrites: {writes}"
        assert "Traceback" not in out + err, where
        assert TOKEN not in out + err, where
        # Nothing written: GitOps repositories, the fake's git data, pull requests and statuses, the --out folder.
        assert gitops_state(self.world) == before_gitops, f"{where}\nthe GitOps repositories changed"
        assert fake_state(self.world) == before_fake, f"{where}\nthe fake GitHub's refs, pulls or statuses changed"
        assert not (folder / "out").exists(), f"{where}\nthe --out folder was written"

        new_comments = {cid: c["body"] for cid, c in self.world.fake.comments.items() if before_comments.get(cid) != c}
        if case.outcome is Outcome.ERROR:
            assert code == 1, where
            assert err.splitlines(), where
            assert all(line.startswith("error: ") for line in err.splitlines()), where
            _matches(err.splitlines()[0], expected, case.prefix, where)
        else:
            assert code == 0 and err == "", where
            _matches(
                out.splitlines()[0] if out else "",
                expected if case.outcome is not Outcome.REPLY else "envbot: replied on the pull request",
                case.prefix and case.outcome is not Outcome.REPLY,
                where,
            )
        if case.outcome is Outcome.REPLY:
            assert writes in (["issues/create-comment"], ["issues/update-comment"]), where
            ((_, body),) = new_comments.items()
            marker, _, text = body.partition("\n")
            assert marker.startswith("<!-- envbot:reply:"), where
            _matches(text, expected, case.prefix, where)
        else:
            assert writes == [] and new_comments == {}, where
        job = summary.read_text(encoding="utf-8") if summary.exists() else ""
        job += outputs.read_text(encoding="utf-8") if outputs.exists() else ""
        if case.outcome is Outcome.UNTOUCHED:
            assert "| Deleted |" in job and f"`{PR_BRANCH}`" not in job, where
        else:
            # A refused /provision still closes the job with an empty summary: no environment row, no outputs.
            assert not [row for row in job.splitlines() if row.startswith("| `")], where
            assert all(not value for value in _step_outputs(job).values()), where
        for secret in case.forbidden:
            said = out + err + "\n".join(new_comments.values())
            assert secret not in said, f"{where}\n{secret!r} leaked"


def _step_outputs(text: str) -> dict[str, str]:
    """``GITHUB_OUTPUT``'s heredoc form read back."""
    pattern = re.compile(r"^([\w-]+)<<(\S+)\n(.*?)\n?\2$", re.MULTILINE | re.DOTALL)
    return {match[1]: match[3] for match in pattern.finditer(text)}


def substitute(text: str, names: Mapping[str, str]) -> str:
    """``text`` with the placeholders of ``Case`` filled in (other braces are kept as they are)."""
    for key, value in names.items():
        text = text.replace("{" + key + "}", value)
    return text


def _matches(actual: str, expected: str, prefix: bool, where: str) -> None:
    if prefix:
        assert actual.startswith(expected), f"{where}\nexpected a line starting {expected!r}\ngot {actual!r}"
    else:
        assert actual == expected, f"{where}\nexpected {expected!r}\ngot      {actual!r}"


@contextmanager
def open_arena(root: Path) -> Iterator[Arena]:
    """The shared world: #42 (``feature-login``) with its environment provisioned, collaborators with each role,
    a fork's pull request #5, and the job's environment variables (the source token in ENVBOT_SOURCE_TOKEN)."""
    with pytest.MonkeyPatch.context() as patch, contextmanager(make_world)(root / "world", REPO) as world:
        for variable in ("GITHUB_TOKEN", "ENVBOT_GITOPS_TOKEN", "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH"):
            patch.delenv(variable, raising=False)
        patch.setenv("ENVBOT_SOURCE_TOKEN", TOKEN)
        for user, role in ROLES.items():
            world.fake.grant(user, role)
        world.add_pull_request(PR, PR_BRANCH)
        world.add_pull_request(FORK_PR, "fork-login")
        world.logs.clear()
        assert world.handle("issue_comment", comment("/provision")) == 0, world.logs
        assert f"registry/environments/{PR_BRANCH}/environment.yaml" in world.gitops_files("platform")
        cases = root / "cases"
        cases.mkdir()
        yield Arena(world, cases, copy.deepcopy(world.fake.comments))
