"""LocalForge specifics: no git identity needed, shared state across processes, crash safety, git URLs."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.forge import FileChange, ForgeNotFoundError, ForgeRejectedError, MergeOutcome, Permission
from bot.forge.local import STATE_REF, LocalForge
from bot.forge.model import AutoMergeOutcome, AutoMergeResult, BranchRules, CommitStatus, RepositorySettings
from tests.forge.support import SEED, git, make_bare_repo

BRANCH = "envbot/dev/infrastructure"
MARKER = "envbot:status:dev"


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    return make_bare_repo(tmp_path, SEED)


def open_pr(forge: LocalForge) -> int:
    forge.push_commit(BRANCH, "main", [FileChange.write("registry/dev/x.yaml", "x: 1\n")], "provision dev")
    return forge.ensure_pull_request(BRANCH, "main", "Provision dev", "body").number


def test_no_git_identity_is_configured_here(bare: Path) -> None:
    done = subprocess.run(["git", "config", "user.name"], capture_output=True, text=True)
    assert done.returncode != 0  # the premise: LocalForge below commits and merges without it
    with LocalForge(bare, identity=("envbot", "bot@example.com")) as forge:
        number = open_pr(forge)
        result = forge.merge(number, forge.get_pull_request(number).head_sha)
    assert result.merged
    assert git("log", "-1", "--format=%an <%ae>|%cn", "main", cwd=bare) == "envbot <bot@example.com>|envbot"


def test_state_lives_in_the_repository(bare: Path) -> None:
    with LocalForge(bare) as first:
        number = open_pr(first)
        first.upsert_comment(number, MARKER, "provisioning")
    with LocalForge(bare) as second:  # another process, later
        assert second.ensure_pull_request(BRANCH, "main", "Provision dev", "body").number == number
        assert second.upsert_comment(number, MARKER, "provisioning").body.endswith("provisioning")
    log = git("log", "--format=%s", STATE_REF, cwd=bare).splitlines()
    assert log == [f"comment on #{number}", "ensure pull request"]  # an audit trail; re-runs wrote nothing


def test_refs_read_from_files_agree_with_git_loose_packed_and_gone(bare: Path) -> None:
    with LocalForge(bare) as forge:
        number = open_pr(forge)
        loose = {ref: forge._ref(ref) for ref in (f"refs/heads/{BRANCH}", "refs/heads/main", STATE_REF)}
        assert loose == {ref: git("rev-parse", ref, cwd=bare) for ref in loose}
        git("pack-refs", "--all", "--prune", cwd=bare)  # every loose ref file moves into packed-refs
        assert not (bare / "refs" / "heads" / "main").exists()
        assert {ref: forge._ref(ref) for ref in loose} == loose
        assert forge.read_file("registry/dev/x.yaml", BRANCH) == "x: 1\n"
        assert forge.get_pull_request(number).state == "open"
        forge.push_commit(BRANCH, "main", [FileChange.write("registry/dev/x.yaml", "x: 2\n")], "again")
        assert forge._ref(f"refs/heads/{BRANCH}") == git("rev-parse", f"refs/heads/{BRANCH}", cwd=bare)  # loose again
        git("update-ref", "-d", f"refs/heads/{BRANCH}", cwd=bare)
        assert forge._ref(f"refs/heads/{BRANCH}") is None
        assert forge._ref("refs/heads/no-such-branch") is None
        assert forge._ref("refs/heads/../../HEAD") is None  # never a path outside the refs


def _worker(location: str, worker: int, sha: str) -> None:
    with LocalForge(location) as forge:
        for round_ in range(3):
            number = forge.ensure_pull_request(BRANCH, "main", "Provision dev", "body", labels=[f"w{worker}"]).number
            forge.upsert_comment(number, MARKER, f"round {round_}")
            forge.set_status(sha, f"ctx/{worker}", "success", f"worker {worker}")


def test_concurrent_processes_converge_and_lose_nothing(bare: Path) -> None:
    with LocalForge(bare) as forge:
        sha = forge.push_commit(BRANCH, "main", [FileChange.write("a.yaml", "a\n")], "m").sha
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_worker, args=(str(bare), i, sha)) for i in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    with LocalForge(bare) as forge:
        pr = forge.get_pull_request(1)
        assert pr.labels == ("w0", "w1", "w2", "w3")  # every worker's update landed
        with pytest.raises(ForgeNotFoundError):
            forge.get_pull_request(2)  # and only one pull request was opened
        assert len(forge._record(forge._state(), 1)["comments"]) == 1
        assert [s.context for s in forge.commit_status(sha).statuses] == ["ctx/0", "ctx/1", "ctx/2", "ctx/3"]


def test_a_crash_before_publishing_leaves_the_old_state(bare: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with LocalForge(bare) as forge:
        number = open_pr(forge)
        before = git("rev-parse", STATE_REF, cwd=bare)

        def crash(*args: object) -> None:
            raise KeyboardInterrupt  # the process dies after writing objects, before moving the ref

        monkeypatch.setattr(forge, "_update_refs", crash)
        with pytest.raises(KeyboardInterrupt):
            forge.upsert_comment(number, MARKER, "lost")
        assert git("rev-parse", STATE_REF, cwd=bare) == before
        monkeypatch.undo()
        assert forge.upsert_comment(number, MARKER, "kept").body.endswith("kept")
        assert len(forge._record(forge._state(), number)["comments"]) == 1


def test_merge_retries_when_the_base_moves_underneath(bare: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with LocalForge(bare) as forge, LocalForge(bare) as other:
        number = open_pr(forge)
        head = forge.get_pull_request(number).head_sha
        real = forge._merge_tree
        raced: list[str] = []

        def racing_merge_tree(base: str, head_sha: str) -> str | None:
            if not raced:  # someone pushes to main after we read it
                raced.append(other.push_commit("main", "main", [FileChange.write("z.yaml", "z\n")], "z").sha)
            return real(base, head_sha)

        monkeypatch.setattr(forge, "_merge_tree", racing_merge_tree)
        result = forge.merge(number, head)
        assert result.merged
        assert git("rev-parse", f"{result.sha}^1", cwd=bare) == raced[0]  # merged on top of the new base
        assert forge.read_file("z.yaml", "main") == "z\n"
        assert forge.get_pull_request(number).state == "merged"


def test_closed_pull_requests(bare: Path) -> None:
    with LocalForge(bare) as forge:
        number = open_pr(forge)
        forge.close_pull_request(number)
        pr = forge.get_pull_request(number)
        assert (pr.state, pr.mergeable) == ("closed", None)
        assert forge.merge(number, pr.head_sha).outcome is MergeOutcome.NOT_MERGEABLE
        assert forge.ensure_pull_request(BRANCH, "main", "again", "b").number == number + 1


def test_inputs_are_checked(bare: Path, tmp_path: Path) -> None:
    with LocalForge(bare) as forge:
        with pytest.raises(ValueError, match="branch name"):
            forge.push_commit("bad..name", "main", [], "m")
        forge.push_commit("main", "main", [FileChange.write("bin.dat", "x")], "m")
        with pytest.raises(ValueError, match="merge method"):
            forge.merge(1, "0" * 40, method="rebase")  # type: ignore[arg-type]
    git("--git-dir", str(bare), "update-ref", "refs/heads/binary", _binary_commit(bare))
    with LocalForge(bare) as forge, pytest.raises(ForgeRejectedError, match="UTF-8"):
        forge.read_file("blob.bin", "binary")
    (tmp_path / "plain").mkdir()
    with pytest.raises(ForgeNotFoundError):
        LocalForge(tmp_path / "plain")


def _binary_commit(bare: Path) -> str:
    blob = (
        subprocess.run(
            ["git", "--git-dir", str(bare), "hash-object", "-w", "--stdin"], input=b"\xff\xfe", capture_output=True
        )
        .stdout.decode()
        .strip()
    )
    tree = (
        subprocess.run(
            ["git", "--git-dir", str(bare), "mktree"],
            input=f"100644 blob {blob}\tblob.bin\n".encode(),
            capture_output=True,
        )
        .stdout.decode()
        .strip()
    )
    return git("--git-dir", str(bare), "commit-tree", tree, "-m", "binary")


def test_default_permission_and_grants(bare: Path) -> None:
    with LocalForge(bare, default_permission=Permission.ADMIN) as forge:
        assert forge.permission("anyone") is Permission.ADMIN
        forge.grant("intern", Permission.READ)
        forge.grant("intern", Permission.READ)
        assert forge.permission("intern") is Permission.READ
    assert git("rev-list", "--count", STATE_REF, cwd=bare) == "1"


# -- the merge gate on plain git -------------------------------------------------------------------------------


def test_merge_facts_on_plain_git(bare: Path, tmp_path: Path) -> None:
    # A person's commit made at 12:00 in UTC+2 heads the pull request: its committer time is 10:00 UTC.
    work = tmp_path / "person"
    git("clone", "-q", str(bare), str(work))
    (work / "registry").mkdir(exist_ok=True)
    (work / "registry" / "person.yaml").write_text("person: 1\n")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "a person's change", cwd=work, env={"GIT_COMMITTER_DATE": "2026-03-09T12:00:00+02:00"})
    git("push", "-q", "origin", f"HEAD:refs/heads/{BRANCH}", cwd=work)
    with LocalForge(bare) as forge:
        number = forge.ensure_pull_request(BRANCH, "main", "A person's change", "body").number
        head = forge.get_pull_request(number).head_sha
        forge.set_status(head, "envbot/infrastructure", "failure", "Failed")
        facts = forge.merge_facts(number)
        assert facts.head_committed_at == dt.datetime(2026, 3, 9, 10, 0, tzinfo=dt.UTC)
        assert facts.head_committed_at.tzinfo is dt.UTC
        assert facts.statuses == (CommitStatus("envbot/infrastructure", "failure", "Failed"),)
        assert (facts.check_runs, facts.rules, facts.checks_supported) == ((), BranchRules(), False)
        assert facts.pull_request.mergeable_state == "clean"  # no CI here: a failing status is only a report
        assert facts.pull_request == forge.get_pull_request(number)
        assert forge.ensure_pull_request(BRANCH, "main", "A person's change", "body").mergeable_state is None
        forge.push_commit("main", "main", [FileChange.write("registry/person.yaml", "main: 1\n")], "conflict")
        conflicted = forge.merge_facts(number).pull_request
        assert (conflicted.mergeable, conflicted.mergeable_state) == (False, "dirty")


def test_history_gives_commit_times_in_utc(bare: Path, tmp_path: Path) -> None:
    # A person's commit made at 12:00 in UTC+2: history says 10:00 UTC, as MemoryForge's history and GitHub do.
    work = tmp_path / "person"
    git("clone", "-q", str(bare), str(work))
    (work / "person.yaml").write_text("person: 1\n")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "a person's change", cwd=work, env={"GIT_COMMITTER_DATE": "2026-03-09T12:00:00+02:00"})
    git("push", "-q", "origin", "HEAD:refs/heads/main", cwd=work)
    with LocalForge(bare) as forge:
        _, when, subject = forge.history("main")[0]
    assert (when, subject) == (dt.datetime(2026, 3, 9, 10, 0, tzinfo=dt.UTC), "a person's change")
    assert when.tzinfo is dt.UTC


def test_auto_merge_needs_github(bare: Path) -> None:
    with LocalForge(bare) as forge:
        number = open_pr(forge)
        head = forge.get_pull_request(number).head_sha
        written = git("rev-list", "--count", STATE_REF, cwd=bare)
        assert forge.repository_settings() == RepositorySettings(allow_auto_merge=False)
        assert forge.enable_auto_merge(number, head) == AutoMergeResult(
            AutoMergeOutcome.REFUSED, "auto-merge needs GitHub; a local repository has none"
        )
        assert forge.disable_auto_merge(number) == AutoMergeResult(AutoMergeOutcome.DISABLED, "auto-merge is not on")
        assert git("rev-list", "--count", STATE_REF, cwd=bare) == written  # nothing was written
        with pytest.raises(ValueError, match="merge method"):
            forge.enable_auto_merge(number, head, method="rebase")  # type: ignore[arg-type]
        forge.close_pull_request(number)
        assert forge.enable_auto_merge(number, head) == AutoMergeResult(
            AutoMergeOutcome.REFUSED, "pull request is closed"
        )
        merged = open_pr(forge)
        forge.merge(merged, forge.get_pull_request(merged).head_sha)
        assert forge.enable_auto_merge(merged, head).outcome is AutoMergeOutcome.MERGED


# -- git URLs --------------------------------------------------------------------------------------------------


def scenario_over_url(url: str, tmp_path: Path) -> None:
    """Two forges with their own mirrors on one URL share every pull request, comment and merge."""
    with LocalForge(url, cache_dir=tmp_path / "mirror-a") as a, LocalForge(url) as b:
        number = open_pr(a)
        assert b.ensure_pull_request(BRANCH, "main", "Provision dev", "body").number == number
        a.upsert_comment(number, MARKER, "from a")
        assert b.upsert_comment(number, MARKER, "from b").id == a.upsert_comment(number, MARKER, "from b").id
        b.set_status(b.get_pull_request(number).head_sha, "envbot/infrastructure", "success", "ok")
        assert a.commit_status(BRANCH).state == "success"
        assert [s.context for s in a.merge_facts(number).statuses] == ["envbot/infrastructure"]
        result = b.merge(number, a.get_pull_request(number).head_sha)
        assert result.merged and a.read_file("registry/dev/x.yaml", "main") == "x: 1\n"
        assert a.get_pull_request(number).state == "merged"


def test_a_file_url(bare: Path, tmp_path: Path) -> None:
    scenario_over_url(bare.as_uri(), tmp_path)
    assert '"state": "merged"' in git("cat-file", "blob", f"{STATE_REF}:pulls/1.json", cwd=bare)


def test_a_branch_deleted_over_a_url_is_gone_for_every_mirror(bare: Path, tmp_path: Path) -> None:
    with LocalForge(bare.as_uri(), cache_dir=tmp_path / "mirror-a") as a, LocalForge(bare.as_uri()) as b:
        number = open_pr(a)
        assert b.delete_branch(BRANCH) is True
        assert git("for-each-ref", f"refs/heads/{BRANCH}", cwd=bare) == ""
        assert a.branch_sha(BRANCH) is None and a.get_pull_request(number).state == "closed"
        assert a.delete_branch(BRANCH) is False
        assert a.branch_sha("main") == git("rev-parse", "refs/heads/main", cwd=bare)


def test_lost_push_races_over_a_url_are_retried(bare: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with LocalForge(bare.as_uri()) as a, LocalForge(bare.as_uri()) as b:
        number = open_pr(a)
        real_sync = a._sync
        raced: list[bool] = []

        def racing_sync() -> None:
            real_sync()
            if not raced:  # b writes between a's fetch and a's push
                raced.append(True)
                b.upsert_comment(number, "envbot:status:other", "b was here")

        monkeypatch.setattr(a, "_sync", racing_sync)
        a.upsert_comment(number, MARKER, "a was here")
        bodies = [c["body"] for c in a._record(a._state(), number)["comments"]]
        assert len(bodies) == 2  # neither write was lost


DAEMON = ("git", "daemon", "--inetd", "--export-all", "--enable=receive-pack")


@pytest.fixture
def git_daemon(bare: Path) -> Iterator[str]:
    """``git daemon --inetd`` serving the bare repository (push enabled) on 127.0.0.1.

    The test owns the listening socket, so the URL works the moment it is handed out (no polling for a port);
    each accepted connection gets its own ``git daemon --inetd`` on that socket, as inetd would start it.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    served: list[subprocess.Popen[bytes]] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # the listener was closed: the test is over
                return
            with connection:
                served.append(
                    subprocess.Popen(
                        [*DAEMON, f"--base-path={bare.parent}", str(bare.parent)],
                        stdin=connection.fileno(),
                        stdout=connection.fileno(),
                        stderr=subprocess.DEVNULL,
                    )
                )

    acceptor = threading.Thread(target=serve, daemon=True)
    acceptor.start()
    try:
        yield f"git://127.0.0.1:{port}/{bare.name}"
    finally:
        listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() at once
        listener.close()
        acceptor.join(timeout=10)
        for process in served:
            process.wait(timeout=10)


def test_a_network_git_url(git_daemon: str, tmp_path: Path) -> None:
    scenario_over_url(git_daemon, tmp_path)


def test_an_unreachable_url_is_transient(tmp_path: Path) -> None:
    from bot.forge import ForgeUnavailableError

    with LocalForge((tmp_path / "missing.git").as_uri()) as forge, pytest.raises(ForgeUnavailableError):
        forge.read_file("README.md", "main")
