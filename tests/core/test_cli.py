"""The CLI: exit codes, ``error:`` lines without tracebacks, nothing written on bad input, and real output."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

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
    pytest.param(
        ["render", str(SEED), "--out", "{out}", "--outputs", "{typo_outputs}"],
        [
            "error: {typo_outputs}: rds-postgress: no such catalog (did you mean rds-postgres?)",
            "error: {typo_outputs}: rds-postgres.endpiont: rds-postgres declares no such output (did you mean "
            "endpoint?)",
            "error: {typo_outputs}: sample-app.url: sample-app declares no such output (it declares none)",
        ],
        id="unknown-outputs",
    ),
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
    typo_outputs = tmp_path / "typo-outputs.yaml"
    typo_outputs.write_text(
        "rds-postgress: {endpoint: db}\nrds-postgres: {endpiont: db, port: 5432}\nsample-app: {url: x}\n"
    )
    names = {
        "bad_env": str(bad_env),
        "out": str(tmp_path / "out"),
        "secret_outputs": str(secret_outputs),
        "typo_outputs": str(typo_outputs),
    }
    argv = [a.format(**names) for a in argv] + ["--catalogs", str(CATALOGS)]
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert err.splitlines() == [e.format(catalogs=CATALOGS.as_posix(), **names) for e in expected]
    assert "Traceback" not in err and "canary-pw-991" not in err + out
    assert not (tmp_path / "out").exists()


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its text, by relative path."""
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def environment_without(tmp_path: Path, catalog: str, **parameters: object) -> Path:
    """The seed environment without ``catalog``, with ``parameters`` changed on rds-postgres."""
    document = yaml.safe_load(SEED.read_text())
    document["catalogs"] = [c for c in document["catalogs"] if c["name"] != catalog]
    document["catalogs"][0]["parameters"].update(parameters)
    path = tmp_path / f"without-{catalog}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def render_into(capsys: pytest.CaptureFixture[str], env_file: Path, out_dir: Path) -> tuple[int, str, str]:
    return run(capsys, "render", str(env_file), "--out", str(out_dir), "--catalogs", str(CATALOGS))


def test_render_replaces_both_trees_so_a_removed_catalog_leaves_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "NOTES.md").write_text("mine\n")
    assert render_into(capsys, SEED, out_dir)[0] == 0
    assert any("datadog-agent" in path for path in tree(out_dir))
    code, _, err = render_into(capsys, environment_without(tmp_path, "datadog-agent"), out_dir)
    assert (code, err) == (0, "")
    assert not any("datadog-agent" in path for path in tree(out_dir)), sorted(tree(out_dir))
    assert (out_dir / "NOTES.md").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "without-datadog-agent.yaml"]  # nothing left over


def test_a_render_that_fails_part_way_leaves_the_previous_trees_as_they_were(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out_dir = tmp_path / "out"
    assert render_into(capsys, SEED, out_dir)[0] == 0
    before = tree(out_dir)
    changed = environment_without(tmp_path, "datadog-agent", allocatedStorage=50)
    real_write = Path.write_text
    writes: list[Path] = []

    def disk_full_on_the_second_file(path: Path, *args: Any, **kwargs: Any) -> int:
        writes.append(path)
        if len(writes) == 2:
            raise OSError(28, "No space left on device")
        return real_write(path, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", disk_full_on_the_second_file)
    code, _, err = render_into(capsys, changed, out_dir)
    monkeypatch.undo()
    assert code == 1
    assert err.startswith(f"error: {out_dir}/") and err.endswith(": cannot write: No space left on device\n"), err
    assert tree(out_dir) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "without-datadog-agent.yaml"]


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


def test_catalog_validate_refuses_catalogs_envbot_cannot_deploy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folders = {
        "bare-iac": {"catalog.yaml": "name: bare-iac\ntype: iac\n"},
        "bare-hybrid": {
            "catalog.yaml": "name: bare-hybrid\ntype: hybrid\n",
            "templates/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n",
        },
        "vault-db": {
            "catalog.yaml": (
                "name: vault-db\ntype: iac\nparameters:\n"
                "  password: {type: secret, secret: {backend: vault, path: db, key: password}}\n"
            ),
            "main.tf": 'resource "null_resource" "db" {}\n',
            "variables.tf": 'variable "password" {\n  type      = string\n  sensitive = true\n}\n',
        },
    }
    for folder, contents in folders.items():
        for name, text in contents.items():
            (tmp_path / folder / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / folder / name).write_text(text)
    code, out, err = run(capsys, "catalog", "validate", "--catalogs", str(tmp_path))
    root = tmp_path.as_posix()
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"error: {root}/bare-hybrid/catalog.yaml: terraform: a hybrid catalog needs a Terraform module: main.tf, "
        "variables.tf and outputs.tf beside catalog.yaml (source: inline, the default), or source: remote with its "
        "module address",
        f"error: {root}/bare-iac/catalog.yaml: terraform: an iac catalog needs a Terraform module: main.tf, "
        "variables.tf and outputs.tf beside catalog.yaml (source: inline, the default), or source: remote with its "
        "module address",
        f"error: {root}/vault-db/catalog.yaml: parameters.password.secret.backend: 'vault' cannot reach Terraform: "
        "a Workspace reads secret variables (TF_VAR_password) from a Kubernetes Secret, so the backend is kubernetes",
    ]


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


def test_bootstrap_replaces_its_trees_and_leaves_the_rest_of_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "gitops"
    (out_dir / "platform").mkdir(parents=True)
    (out_dir / "platform" / "stale.yaml").write_text("kind: Old\n")
    (out_dir / "keep.txt").write_text("mine\n")
    code, out, _ = run(
        capsys,
        "bootstrap",
        "--platform-repo",
        "https://git.example/p.git",
        "--app-repo",
        "https://git.example/a.git",
        "--out",
        str(out_dir),
    )
    assert code == 0
    files = tree(out_dir)
    assert "platform/stale.yaml" not in files and files["keep.txt"] == "mine\n"
    written = {line.removeprefix(f"wrote {out_dir.as_posix()}/") for line in out.splitlines()}
    assert set(files) == written | {"keep.txt"}
