"""The CLI: exit codes, ``error:`` lines without tracebacks, nothing written on bad input, and real output."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kube_schemas import has_schema, validate
from project_paths import CATALOGS, EXAMPLES, PROJECT_ROOT

from bot.cli import main

SEED = EXAMPLES / "dev-feature-auth.yaml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_render_writes_both_trees_that_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = tmp_path / "outputs.yaml"
    outputs.write_text(yaml.safe_dump({"rds-postgres": {"endpoint": "db.internal", "port": 5432}}))
    code, out, err = run(
        capsys,
        "render",
        str(SEED),
        "--out",
        str(tmp_path / "out"),
        "--outputs",
        str(outputs),
        "--catalogs",
        str(CATALOGS),
    )
    assert (code, err) == (0, "")
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert written == [
        "apps/registry/environments/dev-feature-auth/dev-cluster/datadog-agent.yaml",
        "apps/registry/environments/dev-feature-auth/dev-cluster/datadog-agent/manifests.yaml",
        "apps/registry/environments/dev-feature-auth/dev-cluster/sample-app.yaml",
        "platform/registry/environments/dev-feature-auth/environment.yaml",
        "platform/registry/environments/dev-feature-auth/infrastructure/rds-postgres.yaml",
    ]
    checked = 0
    for path in (tmp_path / "out").rglob("*.yaml"):
        for document in yaml.safe_load_all(path.read_text()):
            if document and has_schema(document):
                validate(document)
                checked += 1
    assert checked == 3
    assert "pending" not in out


def test_render_without_outputs_reports_pending(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "render", str(SEED), "--out", str(tmp_path), "--catalogs", str(CATALOGS))
    assert code == 0
    assert "pending: sample-app applications: parameter databaseEndpoint waits on output" in " ".join(out.split())


BAD_INVOCATIONS = [
    pytest.param(
        ["validate", "missing.yaml"],
        ["error: missing.yaml: environment file not found"],
        id="missing-file",
    ),
    pytest.param(
        ["catalog", "show", "nope"],
        [
            "error: no catalog named 'nope' in {catalogs} (known: datadog-agent, rds-postgres, redis-cache, "
            "s3-bucket, sample-app)"
        ],
        id="unknown-catalog",
    ),
    pytest.param(
        ["render", "{bad_env}", "--out", "{out}"],
        [
            "error: environment bad: catalog rds-postgres: parameter allocatedStorage: must be at least 20, got 1",
            "error: environment bad: catalog rds-postgres: parameter databaseName: is required (a string; see envbot "
            "catalog show rds-postgres)",
            "error: environment bad: catalog rds-postgres: parameter vpcId: is required (a string; see envbot catalog "
            "show rds-postgres)",
        ],
        id="invalid-environment",
    ),
    pytest.param(
        ["render", str(SEED), "--out", "{out}", "--outputs", "{secret_outputs}"],
        ["error: outputs: rds-postgres.masterPassword is sensitive; envbot never reads sensitive outputs"],
        id="sensitive-outputs",
    ),
    pytest.param(["render", str(SEED)], ["error: Missing option '--out'."], id="usage"),
]


@pytest.mark.parametrize(("argv", "expected"), BAD_INVOCATIONS)
def test_bad_input_exits_1_with_error_lines_and_writes_nothing(
    argv: list[str], expected: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_env = tmp_path / "bad.yaml"
    bad_env.write_text(
        "kind: Environment\nname: bad\ncatalogs:\n  - name: rds-postgres\n    parameters: {allocatedStorage: 1}\n"
    )
    secret_outputs = tmp_path / "secret-outputs.yaml"
    secret_outputs.write_text("rds-postgres: {endpoint: db, masterPassword: canary-pw-991}\n")
    names = {"bad_env": str(bad_env), "out": str(tmp_path / "out"), "secret_outputs": str(secret_outputs)}
    argv = [a.format(**names) for a in argv] + ["--catalogs", str(CATALOGS)]
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert err.splitlines() == [e.format(catalogs=CATALOGS.as_posix()) for e in expected]
    assert "Traceback" not in err and "canary-pw-991" not in err + out
    assert not (tmp_path / "out").exists()


def test_catalog_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "catalog", "validate", "--catalogs", str(CATALOGS))
    assert code == 0 and out.startswith("5 catalogs are valid")
    code, out, _ = run(capsys, "catalog", "list", "--catalogs", str(CATALOGS))
    assert code == 0 and all(name in out for name in ("rds-postgres", "s3-bucket", "redis-cache", "hybrid"))
    code, out, _ = run(capsys, "catalog", "show", "rds-postgres", "--catalogs", str(CATALOGS))
    assert code == 0 and "allocatedStorage" in out and "masterPassword" in out


def test_catalog_validate_reports_a_broken_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(CATALOGS / "sample-app", tmp_path / "sample-app")
    (tmp_path / "sample-app" / "templates" / "extra.yaml").write_text("kind: ConfigMap\nvalue: {{ params.nope }}\n")
    code, _, err = run(capsys, "catalog", "validate", "--catalogs", str(tmp_path))
    assert code == 1
    assert err == "error: catalogs/sample-app/templates/extra.yaml: 'dict object' has no attribute 'nope'\n"


def test_bootstrap_writes_application_sets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(
        capsys,
        "bootstrap",
        "--platform-repo",
        "https://git.example/p.git",
        "--app-repo",
        "https://git.example/a.git",
        "--out",
        str(tmp_path),
    )
    assert code == 0
    for path in tmp_path.rglob("*.yaml"):
        validate(yaml.safe_load(path.read_text()))


def test_python_dash_m_and_help_run_as_a_process() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, cwd=PROJECT_ROOT, check=False
    )
    assert completed.returncode == 0
    assert "render" in completed.stdout and "catalog" in completed.stdout
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, bot.cli; print(sorted(m for m in ('github', 'git', 'kubernetes', 'jinja2') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=True,
    )
    assert heavy.stdout.strip() == "[]", "the CLI must import heavy clients lazily"
