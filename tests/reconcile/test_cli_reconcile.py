"""The reconcile commands through the CLI, over an envbot.yaml: provision, status, destroy, retry, demo, config."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from manual_clock import ManualClock
from project_paths import CATALOGS, EXAMPLES

from bot.catalog_files import load_catalogs
from bot.cli import main
from bot.clock import Timebase
from bot.config import parse_config
from bot.errors import UserError
from bot.forge.local import LocalForge
from bot.reconcile.gate import MergePolicy, NativeMerge
from bot.reconcile.model import Phase
from bot.simulation import SimulatedCluster

SEED = EXAMPLES / "dev-feature-auth.yaml"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    LocalForge.initialize(tmp_path / "platform.git", {"README.md": "platform\n"})
    LocalForge.initialize(tmp_path / "apps.git", {"README.md": "apps\n"})
    path = tmp_path / "envbot.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "platform": {"repository": "./platform.git"},
                "apps": {"repository": "./apps.git", "baseBranch": "main"},
                "catalogs": str(CATALOGS),
                "cluster": {"type": "simulated", "path": "simulated-cluster.json"},
                "timeouts": {"wait": "2m", "pollInterval": "1s"},
            }
        )
    )
    return path


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """``run(*argv)``: the CLI in-process on one clock per test (so ``--wait`` polls without sleeping)."""
    clock = ManualClock()

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv), timebase=clock.timebase)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def test_provision_status_and_destroy(config_file: Path, run: Run) -> None:
    code, out, err = run("provision", str(SEED), "--config", str(config_file), "--wait")
    assert (code, err) == (0, "")
    assert "Ready" in out and "dev-feature-auth" in out
    code, out, _ = run("status", "--config", str(config_file), "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert (row["environment"], row["phase"]) == ("dev-feature-auth", "Ready")
    assert row["waitingOn"] == "all 1 Workspace Available; all 2 Applications Healthy"
    code, out, _ = run("status", "--config", str(config_file))
    assert code == 0 and "Ready" in out
    code, out, _ = run("reconcile", "--config", str(config_file))
    assert code == 0 and "Ready" in out
    code, out, _ = run("destroy", "dev-feature-auth", "--config", str(config_file), "--wait")
    assert code == 0 and "Deleted" in out
    code, out, _ = run("status", "--config", str(config_file), "--json")
    assert json.loads(out) == []


def test_provision_without_wait_moves_as_far_as_it_can(config_file: Path, run: Run) -> None:
    code, out, _ = run("provision", str(SEED), "--config", str(config_file))
    assert code == 0
    assert "Provisioning" in out and "Infrastructure" in out


def test_retry_refuses_an_environment_that_has_not_failed(config_file: Path, run: Run) -> None:
    run("provision", str(SEED), "--config", str(config_file), "--wait")
    code, _, err = run("retry", "dev-feature-auth", "--config", str(config_file))
    assert code == 1
    assert err == "error: environment dev-feature-auth is Ready, not Failed; there is nothing to retry\n"


def test_missing_config_is_one_line(tmp_path: Path, run: Run) -> None:
    code, _, err = run("status", "--config", str(tmp_path / "nope.yaml"))
    assert code == 1
    assert err.startswith(f"error: {tmp_path / 'nope.yaml'}: config file not found")


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        (
            "platform: {repository: a/b}\n",
            ["envbot.yaml: apps.repository: is missing: give a GitHub owner/name or a local path"],
        ),
        (
            "platform: {repository: a/b, branch: main}\napps: {repository: c/d}\ncolour: red\n",
            [
                "envbot.yaml: colour: unknown key (known: agent, apps, catalogs, cluster, events, github, merge, platform, render, timeouts)",
                "envbot.yaml: platform.branch: unknown key (did you mean baseBranch?) (known: baseBranch, repository)",
            ],
        ),
        (
            "platform: {repository: a/b}\napps: {repository: c/d}\ncluster: {type: minikube}\n"
            "timeouts: {failureGrace: soon}\nmerge: {method: rebase}\n",
            [
                "envbot.yaml: cluster.type: must be kubernetes, static or simulated, got 'minikube'",
                "envbot.yaml: timeouts.failureGrace: 'soon' is not a duration such as 30s, 10m or 2h",
                "envbot.yaml: merge.method: must be merge or squash, got 'rebase'",
            ],
        ),
        (
            "platform: {repository: 3}\napps: {repository: c/d}\n",
            ["envbot.yaml: platform.repository: must be a string, got the integer 3"],
        ),
        (
            "platform: {repository: a/b}\napps: {repository: c/d}\n"
            "merge: {requiredChecks: [ci, 3], settle: later, native: sometimes}\n",
            [
                "envbot.yaml: merge.requiredChecks: must be a list of check names",
                "envbot.yaml: merge.native: must be auto, always or never, got 'sometimes'",
                "envbot.yaml: merge.settle: 'later' is not a duration such as 30s, 10m or 2h",
            ],
        ),
    ],
)
def test_config_problems_are_reported_at_once(text: str, problems: list[str]) -> None:
    with pytest.raises(UserError) as caught:
        parse_config(text, "envbot.yaml")
    assert list(caught.value.problems) == problems


def test_config_defaults_and_github_detection(tmp_path: Path) -> None:
    config = parse_config("platform: {repository: acme/platform}\napps: {repository: ./apps.git}\n", "x", str(tmp_path))
    assert config.platform.is_github and not config.apps.is_github
    assert config.platform.base_branch == "main" and config.render.workspace_api.value == "tf.upbound.io/v1beta1"
    assert config.timeouts.failure_grace.total_seconds() == 600
    assert config.merge_policy == MergePolicy(settle=dt.timedelta(minutes=2), native=NativeMerge.AUTO)


def test_the_merge_keys_reach_the_gate(tmp_path: Path) -> None:
    text = (
        "platform: {repository: acme/platform}\napps: {repository: ./apps.git}\n"
        "merge: {requiredChecks: [plan, ' plan ', lint], settle: 45s, native: never}\n"
    )
    policy = parse_config(text, "x", str(tmp_path)).merge_policy
    assert policy.required_checks == ("plan", "lint")
    assert policy.settle == dt.timedelta(seconds=45) and policy.native is NativeMerge.NEVER


def test_demo_runs_the_whole_lifecycle(tmp_path: Path, run: Run) -> None:
    code, out, err = run(
        "demo", "--workdir", str(tmp_path / "demo"), "--catalogs", str(CATALOGS), "--environment", str(SEED)
    )
    assert (code, err) == (0, "")
    flat = " ".join(out.split())
    assert (
        "Phases: Creating → Provisioning Infrastructure → Infrastructure Ready → Deploying Applications → Ready → "
        "Deleting → Deleted" in flat
    )
    assert "SIMULATION" in out
    merges = [line for line in out.splitlines() if "Merge pull request" in line]
    steps = [step for line in merges for step in ("/infrastructure", "/applications", "/cleanup-applications",
                                                   "/cleanup-infrastructure", "/remove-folders", "/remove-record")
             if step in line]  # fmt: skip
    assert steps == ["/infrastructure", "/applications", "/cleanup-applications", "/cleanup-infrastructure",
                     "/remove-folders", "/remove-record"]  # fmt: skip


def test_demo_from_any_folder_uses_the_catalogs_and_example_shipped_in_the_package(
    tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no catalogs/ or examples/ here
    code, out, err = run("demo", "--workdir", str(tmp_path / "demo"))
    assert (code, err) == (0, "")
    assert "Phases: Creating → " in out and "Deleted" in out


def test_demo_catalogs_option_still_overrides_the_shipped_ones(tmp_path: Path, run: Run) -> None:
    empty = tmp_path / "no-catalogs"
    empty.mkdir()
    code, _, err = run("demo", "--workdir", str(tmp_path / "demo"), "--catalogs", str(empty))
    assert code == 1
    assert err.startswith("error: ") and "rds-postgres" in err


# -- exit codes that tell the truth (issue 12, item 5) and nothing written before the first step can finish (6) ------


def configure(config_file: Path, **changes: object) -> Path:
    """Rewrite ``config_file`` with top-level keys replaced or merged (one level deep) by ``changes``."""
    document = yaml.safe_load(config_file.read_text())
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(document.get(key), dict):
            document[key] = {**document[key], **value}
        else:
            document[key] = value
    config_file.write_text(yaml.safe_dump(document))
    return config_file


def repository_state(path: Path) -> tuple[frozenset[str], dict[int, str], str | None]:
    """A GitOps repository's branches, pull requests and main head: what "nothing was written" compares."""
    with LocalForge(path) as forge:
        return forge.branch_names(), dict(forge.pull_request_states()), forge.branch_sha("main")


def test_wait_that_runs_out_of_time_exits_124_saying_what_it_waits_on(config_file: Path, run: Run) -> None:
    (config_file.parent / "observed").mkdir()  # a static cluster in which no Workspace ever shows up
    configure(config_file, cluster={"type": "static", "path": "observed"}, timeouts={"wait": "30s"})
    code, out, err = run("provision", str(SEED), "--config", str(config_file), "--wait")
    assert code == 124
    (line,) = err.splitlines()
    assert line.startswith(
        "error: environment dev-feature-auth: still Provisioning Infrastructure after waiting 30s (timeouts.wait); "
        "waiting on 0/1 Workspaces Available"
    )
    assert "dev-feature-auth-rds-postgres" in line, line
    progress = progress_lines(out)
    assert phases_shown(progress) == ["Creating", "Provisioning Infrastructure"]
    assert any(text.startswith("0.0s platform pull request #1 merged: ") for text in progress), out
    assert any(text.startswith("0.0s waiting on 0/1 Workspaces Available") for text in progress), out


def progress_lines(out: str) -> list[str]:
    """The live progress lines a waiting command printed (``  1.0s  ...``), blanks squeezed."""
    return [" ".join(text.split()) for text in out.splitlines() if re.match(r"\s*\d+\.\ds ", text)]


def phases_shown(progress: list[str]) -> list[str]:
    phases = {phase.value for phase in Phase}
    return [text.split(" ", 1)[1] for text in progress if text.split(" ", 1)[1] in phases]


def test_wait_rereads_a_static_cluster_edited_while_it_waits(
    tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Crossplane and Argo CD as a person plays them: after each poll the observed YAML is rewritten with what the
    simulated controllers report for what is merged; the waiting command must see every edit."""
    observed = tmp_path / "observed"
    observed.mkdir()
    configure(config_file, cluster={"type": "static", "path": "observed"})
    clock = ManualClock()
    with LocalForge(tmp_path / "platform.git") as platform, LocalForge(tmp_path / "apps.git") as apps:
        controllers = SimulatedCluster(platform, apps, load_catalogs(CATALOGS), clock=clock)

        def sleep(seconds: float) -> None:
            clock.sleep(seconds)
            (observed / "cluster.yaml").write_text(yaml.safe_dump_all(controllers._sync()), encoding="utf-8")

        code = main(
            ["provision", str(SEED), "--config", str(config_file), "--wait"],
            timebase=Timebase(clock=clock, sleep=sleep),
        )
    out, err = capsys.readouterr()
    assert (code, err) == (0, ""), out
    assert phases_shown(progress_lines(out)) == [
        "Creating",
        "Provisioning Infrastructure",
        "Infrastructure Ready",
        "Deploying Applications",
        "Ready",
    ]
    assert re.search(r"dev-feature-auth\s*│\s*Ready\s*│", out), out


def test_destroy_status_and_retry_of_an_unknown_environment_exit_1_with_a_suggestion(
    tmp_path: Path, config_file: Path, run: Run
) -> None:
    assert run("provision", str(SEED), "--config", str(config_file), "--wait")[0] == 0
    before = repository_state(tmp_path / "platform.git"), repository_state(tmp_path / "apps.git")
    for argv in (["destroy", "dev-feature-aut", "--wait"], ["status", "dev-feature-aut"], ["retry", "dev-feature-aut"]):
        code, _, err = run(*argv, "--config", str(config_file))
        assert (code, err) == (1, "error: no environment dev-feature-aut (did you mean dev-feature-auth?)\n"), argv
    code, _, err = run("destroy", "qa", "--config", str(config_file))
    assert (code, err) == (1, "error: no environment qa\n")
    assert (repository_state(tmp_path / "platform.git"), repository_state(tmp_path / "apps.git")) == before


def test_provisioning_an_environment_that_is_being_deleted_is_refused(
    tmp_path: Path, config_file: Path, run: Run
) -> None:
    assert run("provision", str(SEED), "--config", str(config_file), "--wait")[0] == 0
    code, out, _ = run("destroy", "dev-feature-auth", "--config", str(config_file), "--requested-by", "nadia")
    assert code == 0 and "Deleting" in out
    before = repository_state(tmp_path / "platform.git"), repository_state(tmp_path / "apps.git")
    code, _, err = run("provision", str(SEED), "--config", str(config_file), "--wait")
    assert code == 1
    assert re.fullmatch(
        r"error: environment dev-feature-auth is being deleted \(nadia asked for it at 2026-11-27 12:\d\d:\d\d UTC\); "
        r"wait until it is Deleted, then provision again\n",
        err,
    ), err
    assert (repository_state(tmp_path / "platform.git"), repository_state(tmp_path / "apps.git")) == before


@pytest.mark.parametrize("command", [["provision", str(SEED), "--wait"], ["reconcile", "dev-feature-auth"]])
def test_a_missing_base_branch_is_found_before_anything_is_written(
    tmp_path: Path, config_file: Path, run: Run, command: list[str]
) -> None:
    configure(config_file, apps={"baseBranch": "release"})
    before = repository_state(tmp_path / "platform.git")
    code, _, err = run(*command, "--config", str(config_file))
    assert (code, err) == (1, "error: apps repository ./apps.git: base branch release not found\n")
    assert repository_state(tmp_path / "platform.git") == before
    assert before[:2] == (frozenset({"main"}), {})


def test_every_problem_before_the_first_write_is_told_at_once(tmp_path: Path, config_file: Path, run: Run) -> None:
    configure(config_file, platform={"baseBranch": "trunk"}, apps={"repository": "./nowhere.git"})
    code, _, err = run("destroy", "dev-feature-auth", "--config", str(config_file))
    assert code == 1
    assert err.splitlines() == [
        f"error: {tmp_path / 'nowhere.git'}: repository not found (a local path must name an existing git repository)",
        "error: platform repository ./platform.git: base branch trunk not found",
    ]
    configure(config_file, apps={"repository": "./apps.git", "baseBranch": "release"})
    code, _, err = run("destroy", "dev-feature-auth", "--config", str(config_file))
    assert code == 1
    assert err.splitlines() == [
        "error: platform repository ./platform.git: base branch trunk not found",
        "error: apps repository ./apps.git: base branch release not found",
    ]
    (tmp_path / "no-catalogs").mkdir()
    configure(config_file, apps={"baseBranch": "main"}, catalogs="no-catalogs")
    code, _, err = run("reconcile", "--config", str(config_file))
    assert code == 1
    assert err.splitlines() == [
        "error: platform repository ./platform.git: base branch trunk not found",
        "error: catalogs no-catalogs: the folder holds no catalog",
    ]


def test_status_names_what_holds_a_merge_back(config_file: Path, run: Run, tmp_path: Path) -> None:
    """A check ``merge.requiredChecks`` names keeps the first pull request open; ``envbot status`` weighs it (reading
    only) and says why, in the table and in ``--json``; once the check passes the next run merges."""
    document = yaml.safe_load(config_file.read_text())
    merge = {"requiredChecks": ["ci/plan"]}
    config_file.write_text(
        yaml.safe_dump({**document, "merge": merge, "timeouts": {"wait": "3s", "pollInterval": "1s"}})
    )
    code, out, _ = run("provision", str(SEED), "--config", str(config_file))
    assert code == 0 and "Creating" in out
    missing = 'required check "ci/plan" has not reported yet (required by envbot.yaml merge.requiredChecks)'
    code, out, _ = run("status", "--config", str(config_file), "--json")
    (row,) = json.loads(out)
    (line,) = row["pullRequests"]
    assert line == f"platform #1 (checks-pending): {missing}"
    assert row["blockers"] == [{"pullRequest": "platform #1 (checks-pending)", "kind": "missing", "text": missing,
                                "url": None}]  # fmt: skip

    platform = LocalForge(tmp_path / "platform.git")
    head = platform.get_pull_request(1).head_sha
    platform.set_status(head, "ci/plan", "failure", "plan failed", "https://ci.example/plan/7")
    code, out, _ = run("status", "--config", str(config_file), "--json")
    (row,) = json.loads(out)
    assert row["pullRequests"] == [
        'platform #1 (checks-failed): status "ci/plan" failed: plan failed (https://ci.example/plan/7)'
    ]
    code, out, _ = run("status", "--config", str(config_file))
    assert "checks-failed" in " ".join(out.split())

    platform.set_status(head, "ci/plan", "success", "plan ok")
    code, out, _ = run("provision", str(SEED), "--config", str(config_file))
    assert code == 0
    assert platform.get_pull_request(1).state == "merged"
    # merge.requiredChecks holds every pull request envbot merges, on both repositories: the app one waits too
    code, _, err = run("provision", str(SEED), "--config", str(config_file), "--wait")
    assert code == 124
    assert err.endswith(
        f"the applications pull request to pass its checks and merge; apps #1 (checks-pending): {missing}\n"
    )
