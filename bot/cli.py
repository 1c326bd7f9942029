"""The ``envbot`` command line: ``main(argv) -> int``; every outcome has its own exit status (docs/cli.md)."""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bot import __version__
from bot.clock import WALL_CLOCK, Timebase
from bot.errors import EnvbotError, PermanentError, TransientError, UserError

if TYPE_CHECKING:
    from bot.catalog.model import CatalogSet
    from bot.config import Config
    from bot.environment.model import BoundEnvironment
    from bot.reconcile.runner import Reconciler
    from bot.render.renderer import RenderedFile

EXIT_OK = 0
EXIT_ERROR = 1
"""Bad input, a permanent fault, or an environment that ended Failed."""
EXIT_TEMPORARY = 75
"""A transient fault (EX_TEMPFAIL of sysexits.h): the same command may work later."""
EXIT_TIMED_OUT = 124
"""``--wait`` ran out of ``timeouts.wait`` before the environment settled (as timeout(1) exits)."""


class WaitTimeoutError(EnvbotError):
    """``--wait`` ran out of time; the message says what the environment still waits on."""


CATALOGS_OPTION = click.option(
    "--catalogs",
    "catalogs_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("catalogs"),
    show_default=True,
    help="Folder holding one sub-folder per catalog.",
)


def _timebase() -> Timebase:
    """The clock and sleep ``main`` was given (tests pass their own), else the wall clock."""
    context = click.get_current_context(silent=True)
    found = context.find_object(Timebase) if context is not None else None
    return found if found is not None else WALL_CLOCK


def _console() -> Any:
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console.width = max(console.width, 160)
    return console


def _load_catalogs(catalogs_dir: Path) -> CatalogSet:
    from bot.catalog_files import load_catalogs

    return load_catalogs(catalogs_dir)


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a folder, not a {what}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: is not UTF-8 text") from None


def _bind(env_file: Path, catalogs: CatalogSet) -> BoundEnvironment:
    from bot.environment.bind import bind_environment
    from bot.environment.spec import parse_environment

    environment = parse_environment(_read_text(env_file, "environment file"), env_file.as_posix())
    return bind_environment(environment, catalogs)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="envbot")
def cli() -> None:
    """Provision complete environments (Crossplane infrastructure and Argo CD applications) from catalogs."""


@cli.group("catalog")
def catalog_group() -> None:
    """Inspect and check the catalogs folder."""


@catalog_group.command("list")
@CATALOGS_OPTION
def catalog_list(catalogs_dir: Path) -> None:
    """List the catalogs with their type, version and what they declare."""
    from rich.markup import escape
    from rich.table import Table

    catalogs = _load_catalogs(catalogs_dir)
    table = Table(title=f"Catalogs in {catalogs_dir.as_posix()}", title_justify="left")
    for column in ("name", "type", "version", "parameters", "outputs", "description"):
        table.add_column(column, overflow="fold")
    for catalog in catalogs.catalogs.values():
        summary = catalog.description.split(". ")[0].rstrip(".")
        table.add_row(
            catalog.name,
            catalog.type.value,
            escape(catalog.version) or "-",
            str(len(catalog.parameters)),
            str(len(catalog.outputs)),
            escape(summary),
        )
    _console().print(table)


def _display(value: Any) -> str:
    """A parameter default or output example as a person would type it in YAML."""
    import json

    return json.dumps(value, ensure_ascii=False)


@catalog_group.command("show")
@click.argument("name")
@CATALOGS_OPTION
def catalog_show(name: str, catalogs_dir: Path) -> None:
    """Show one catalog's parameters and outputs."""
    from rich.markup import escape
    from rich.table import Table

    catalogs = _load_catalogs(catalogs_dir)
    catalog = catalogs.get(name)
    if catalog is None:
        raise UserError(
            f"no catalog named {name!r} in {catalogs_dir.as_posix()} (known: {', '.join(catalogs.names())})"
        )
    console = _console()
    console.print(f"[bold]{catalog.name}[/bold]  {catalog.type.value}  {escape(catalog.version)}")
    if catalog.description:
        console.print(escape(catalog.description))
    parameters = Table(title="Parameters", title_justify="left")
    for column in ("name", "type", "required", "default", "constraints", "description"):
        parameters.add_column(column, overflow="fold")
    for parameter in catalog.parameters.values():
        constraints = []
        if parameter.options:
            constraints.append("one of " + ", ".join(str(o) for o in parameter.options))
        if parameter.pattern:
            constraints.append(f"matches {parameter.pattern}")
        if parameter.minimum is not None:
            constraints.append(f">= {parameter.minimum}")
        if parameter.maximum is not None:
            constraints.append(f"<= {parameter.maximum}")
        if parameter.secret.backend or parameter.secret.path:
            constraints.append(f"reference, default {parameter.secret.backend}:{parameter.secret.path}")
        parameters.add_row(
            parameter.name,
            parameter.type.value,
            "yes" if parameter.required else "",
            escape(_display(parameter.default)) if parameter.has_default else "",
            escape("; ".join(constraints)),
            escape(parameter.description),
        )
    console.print(parameters)
    if catalog.outputs:
        outputs = Table(title="Outputs", title_justify="left")
        for column in ("name", "sensitive", "example", "description"):
            outputs.add_column(column, overflow="fold")
        for output in catalog.outputs.values():
            outputs.add_row(
                output.name,
                "yes" if output.sensitive else "",
                "" if output.example is None else escape(_display(output.example)),
                escape(output.description),
            )
        console.print(outputs)


@catalog_group.command("validate")
@CATALOGS_OPTION
def catalog_validate(catalogs_dir: Path) -> None:
    """Check every catalog, its templates and its Terraform declarations; report every problem."""
    from bot.render.check import check_catalog_renders

    catalogs = _load_catalogs(catalogs_dir)
    problems = [line for catalog in catalogs.catalogs.values() for line in check_catalog_renders(catalog)]
    if problems:
        raise UserError(problems)
    click.echo(f"{len(catalogs.catalogs)} catalogs are valid: {', '.join(catalogs.names())}")


@cli.command("validate")
@click.argument("env_file", type=click.Path(path_type=Path, dir_okay=False))
@CATALOGS_OPTION
def validate(env_file: Path, catalogs_dir: Path) -> None:
    """Check an environment file against the catalogs; report every problem."""
    bound = _bind(env_file, _load_catalogs(catalogs_dir))
    names = ", ".join(item.name for item in bound.catalogs)
    click.echo(f"environment {bound.name} is valid ({len(bound.catalogs)} catalogs: {names})")


def _load_outputs(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    from bot import yamldoc

    try:
        document = yamldoc.load_one(_read_text(path, "outputs file"))
    except yamldoc.YamlError as exc:
        raise UserError(f"{path}: {exc}") from None
    if document is None:
        return {}
    if not isinstance(document, dict) or not all(isinstance(v, dict) for v in document.values()):
        raise UserError(f"{path}: must map each catalog name to its outputs, e.g. rds-postgres: {{endpoint: ...}}")
    return document


def _check_outputs(outputs: dict[str, Any], catalogs: CatalogSet, path: Path | None) -> None:
    """Every catalog and output an outputs file names must exist: a typo would otherwise render as "pending"."""
    from bot.names import did_you_mean

    problems: list[str] = []
    for catalog_name, values in outputs.items():
        catalog = catalogs.get(str(catalog_name))
        if catalog is None:
            hint = did_you_mean(str(catalog_name), catalogs.names())
            problems.append(f"{path}: {catalog_name}: no such catalog{hint}")
            continue
        for output_name in values:
            if str(output_name) not in catalog.outputs:
                hint = did_you_mean(str(output_name), catalog.outputs) if catalog.outputs else " (it declares none)"
                problems.append(f"{path}: {catalog_name}.{output_name}: {catalog_name} declares no such output{hint}")
    if problems:
        raise UserError(problems)


def _write_trees(out_dir: Path, files: Sequence[RenderedFile]) -> None:
    """Replace ``DIR/platform`` and ``DIR/apps`` as a whole with ``files``; the rest of ``DIR`` is left alone.

    Everything is written into a fresh folder beside ``DIR`` first and then moved into place, so that a failure
    leaves the previous trees as they were and a file no longer rendered (a removed catalog) does not linger.
    """
    from bot.render.renderer import Repo

    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.envbot-", dir=out_dir.parent))
    except OSError as exc:
        raise UserError(f"{out_dir}: cannot write: {exc.strerror or exc}") from None
    try:
        trees = {repo.value: staging / "new" / repo.value for repo in Repo}
        for tree in trees.values():
            tree.mkdir(parents=True)
        for rendered in files:
            target = trees[rendered.repo.value] / rendered.path
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(rendered.content, encoding="utf-8")
            except OSError as exc:
                shown = out_dir / rendered.repo.value / rendered.path
                raise UserError(f"{shown}: cannot write: {exc.strerror or exc}") from None
        try:
            out_dir.mkdir(exist_ok=True)
            for name, tree in trees.items():
                _swap_in(tree, out_dir / name, staging / f"previous-{name}")
        except OSError as exc:
            raise UserError(f"{out_dir}: cannot write: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(tree: Path, target: Path, aside: Path) -> None:
    """Move ``tree`` to ``target``, moving what was there to ``aside`` first (and back if the move fails)."""
    previous = target.exists() or target.is_symlink()
    if previous:
        target.rename(aside)
    try:
        tree.rename(target)
    except OSError:
        if previous:
            aside.rename(target)
        raise


@cli.command("render")
@click.argument("env_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder whose platform/ and apps/ are replaced by the rendered trees.",
)
@click.option(
    "--outputs",
    "outputs_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="YAML file of known Terraform outputs: {catalog: {output: value}}.",
)
@click.option(
    "--workspace-api",
    type=click.Choice(["tf.upbound.io/v1beta1", "tf.m.upbound.io/v1beta1"]),
    default="tf.upbound.io/v1beta1",
    show_default=True,
    help="Cluster-scoped or namespaced provider-terraform Workspaces.",
)
@CATALOGS_OPTION
def render(env_file: Path, out_dir: Path, outputs_file: Path | None, workspace_api: str, catalogs_dir: Path) -> None:
    """Render an environment into DIR/platform/... and DIR/apps/..., replacing both (nothing written on an error)."""
    from rich.table import Table

    from bot.render.renderer import render_environment
    from bot.render.settings import RenderSettings, WorkspaceApi

    catalogs = _load_catalogs(catalogs_dir)
    bound = _bind(env_file, catalogs)
    outputs = _load_outputs(outputs_file)
    _check_outputs(outputs, catalogs, outputs_file)
    result = render_environment(bound, outputs, RenderSettings(workspace_api=WorkspaceApi(workspace_api)))
    files = [*result.platform, *result.apps]
    _write_trees(out_dir, files)
    table = Table(title=f"Rendered {bound.name} into {out_dir.as_posix()}", title_justify="left")
    for column in ("repository", "path", "catalog", "bytes"):
        table.add_column(column, overflow="fold")
    for rendered in files:
        table.add_row(rendered.repo.value, rendered.path, rendered.catalog or "(record)", str(len(rendered.content)))
    console = _console()
    console.print(table)
    for pending in result.pending:
        console.print(f"pending: {pending}")


@cli.command("bootstrap")
@click.option("--platform-repo", required=True, help="Clone URL of the platform GitOps repository.")
@click.option("--app-repo", required=True, help="Clone URL of the app GitOps repository.")
@click.option("--revision", default="HEAD", show_default=True, help="Branch Argo CD follows.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), required=True)
@click.option("--agent", "with_agent", is_flag=True, help="Also write the agent's kustomize base to platform/agent/.")
@click.option("--agent-image", metavar="IMAGE", help="The agent's image with a tag or digest (default: a placeholder).")
@click.option("--agent-namespace", metavar="NAME", help="The agent's namespace (default: envbot).")
def bootstrap(
    platform_repo: str,
    app_repo: str,
    revision: str,
    out_dir: Path,
    with_agent: bool,
    agent_image: str | None,
    agent_namespace: str | None,
) -> None:
    """Render the one-time Argo CD ApplicationSets that turn environment folders into apps (and the agent's base)."""
    from importlib.resources import files as package_files

    from bot.render.bootstrap import BootstrapRepos, render_agent, render_bootstrap

    if (agent_image or agent_namespace) and not with_agent:
        raise UserError("--agent-image and --agent-namespace go with --agent")
    files = render_bootstrap(BootstrapRepos(platform_url=platform_repo, apps_url=app_repo, revision=revision))
    if with_agent:
        deploy = [entry for entry in (package_files("bot") / "deploy").iterdir() if entry.name.endswith(".yaml")]
        sources = {entry.name: entry.read_text(encoding="utf-8") for entry in deploy}
        files += render_agent(sources, image=agent_image, namespace=agent_namespace)
    _write_trees(out_dir, files)
    for rendered in files:
        click.echo(f"wrote {out_dir.as_posix()}/{rendered.repo.value}/{rendered.path}")
    if with_agent and agent_image is None:
        click.echo("the agent's image is a placeholder: set --agent-image, or images: in its kustomization.yaml")


SCHEMA_NAMES = ("envbot", "catalog", "environment")
"""The documents people write for envbot, each with a JSON Schema in ``bot/schemas/NAME.schema.json``."""


@cli.command("schema")
@click.argument("name", metavar="NAME")
def schema(name: str) -> None:
    """Print the JSON Schema of envbot.yaml (envbot), catalog.yaml (catalog) or an environment file (environment)."""
    from importlib.resources import files

    if name not in SCHEMA_NAMES:
        raise UserError(f"no schema named {name!r} (known: {', '.join(SCHEMA_NAMES)})")
    click.echo((files("bot") / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8"), nl=False)


CONFIG_OPTION = click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("envbot.yaml"),
    show_default=True,
    help="The envbot configuration: repositories, catalogs, cluster, timeouts.",
)
WAIT_OPTION = click.option(
    "--wait/--no-wait", default=False, help="Keep reconciling until Ready, Failed or Deleted (or timeouts.wait)."
)


def _reconciler(config_file: Path, *, writes: bool = True) -> tuple[Config, Reconciler]:
    """The config and its reconciler; a command that ``writes`` first checks everything its first step needs."""
    from bot.config import load_config
    from bot.connect import build_reconciler

    config = load_config(config_file)
    return config, build_reconciler(config, _timebase(), preflight=writes)


def _print_passes(reconciler: Reconciler, config: Config, name: str, request: Any, wait: bool) -> None:
    """Reconcile ``name`` (showing live progress while it waits), print its status, and fail as it ended."""
    from bot.durations import format_duration
    from bot.report.progress import Timeline
    from bot.report.status import status_row, status_table

    timebase = _timebase()
    console = _console()
    timeline = Timeline(console, timebase, timebase.clock(), print_waits=not console.is_terminal) if wait else None
    spinner = console.status("starting", spinner="dots") if wait and console.is_terminal else contextlib.nullcontext()
    with spinner as status:
        if timeline is not None:
            timeline.status = status
        final = reconciler.run(
            name,
            request,
            wait=wait,
            timeout=config.timeouts.wait,
            poll_interval=config.timeouts.poll_interval.total_seconds(),
            on_pass=timeline,
        )
    row = status_row(final.decision, final.history)
    console.print(status_table([row], timebase.clock()))
    decision = final.decision
    if decision.failure:
        raise UserError(f"environment {name} is Failed: {decision.failure}")
    if wait and not decision.phase.settled:
        raise WaitTimeoutError(
            f"environment {name}: still {decision.phase.value} after waiting {format_duration(config.timeouts.wait)} "
            f"(timeouts.wait); waiting on {decision.waiting_on}"
            + "".join(f"; {line.text}" for line in row.pull_requests if line.blockers)
        )


@cli.command("provision")
@click.argument("env_file", type=click.Path(path_type=Path, dir_okay=False))
@CONFIG_OPTION
@WAIT_OPTION
def provision(env_file: Path, config_file: Path, wait: bool) -> None:
    """Provision or update the environment ENV_FILE describes: phase 1, then phase 2."""
    from bot.environment.bind import bind_environment
    from bot.environment.spec import parse_environment
    from bot.reconcile.preflight import provision_refusal

    config, reconciler = _reconciler(config_file)
    environment = parse_environment(_read_text(env_file, "environment file"), env_file.as_posix())
    bind_environment(environment, reconciler.catalogs)
    refusal = provision_refusal(reconciler.observe(environment.name))
    if refusal is not None:
        raise UserError(refusal)
    _print_passes(reconciler, config, environment.name, environment, wait)


@cli.command("destroy")
@click.argument("name")
@CONFIG_OPTION
@WAIT_OPTION
@click.option("--requested-by", default="envbot cli", show_default=True, help="Who asks, for the record.")
def destroy(name: str, config_file: Path, wait: bool, requested_by: str) -> None:
    """Destroy an environment: applications first, then infrastructure, then its record."""
    from bot.reconcile.preflight import existing

    config, reconciler = _reconciler(config_file)
    existing(reconciler, name)
    reconciler.request_deletion(name, requested_by)
    _print_passes(reconciler, config, name, None, wait)


@cli.command("retry")
@click.argument("name")
@CONFIG_OPTION
@click.option("--requested-by", default="envbot cli", show_default=True, help="Who asks, for the record.")
def retry(name: str, config_file: Path, requested_by: str) -> None:
    """Re-enter the failed phase of a Failed environment."""
    from bot.reconcile.preflight import existing

    config, reconciler = _reconciler(config_file)
    existing(reconciler, name)
    reconciler.request_retry(name, requested_by)
    _print_passes(reconciler, config, name, None, False)


@cli.command("reconcile")
@click.argument("name", required=False)
@CONFIG_OPTION
@WAIT_OPTION
def reconcile(name: str | None, config_file: Path, wait: bool) -> None:
    """Move one environment (or all of them, from one read of each source) forward from what git and the cluster say."""
    from bot.report.status import status_row, status_table

    config, reconciler = _reconciler(config_file)
    if name:
        _print_passes(reconciler, config, name, None, wait)
        return
    passes = reconciler.sweep()
    _console().print(status_table([status_row(p.decision, p.history) for p in passes], _timebase().clock()))
    failed = [p.decision for p in passes if p.decision.failure]
    if failed:
        raise UserError(f"environment {d.name} is Failed: {d.failure}" for d in failed)


@cli.command("status")
@click.argument("name", required=False)
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def status(name: str | None, config_file: Path, as_json: bool) -> None:
    """Show each environment: phase, since when, what it waits on, its pull requests. Changes nothing."""
    import json

    from bot.reconcile.preflight import existing
    from bot.report.status import status_row, status_table

    _, reconciler = _reconciler(config_file, writes=False)
    if name:
        existing(reconciler, name)
    rows = [status_row(d, reconciler.review_open(d)) for d in reconciler.decisions([name] if name else None)]
    if as_json:
        click.echo(json.dumps([r.as_json() for r in rows], indent=2))
    else:
        _console().print(status_table(rows, _timebase().clock()))


@cli.command("handle-event")
@click.option("--event-name", envvar="GITHUB_EVENT_NAME", required=True, help="Default: $GITHUB_EVENT_NAME.")
@click.option(
    "--event-path",
    envvar="GITHUB_EVENT_PATH",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The webhook payload (JSON). Default: $GITHUB_EVENT_PATH.",
)
@CONFIG_OPTION
@click.option("--dry-run", is_flag=True, help="Decide and report what would happen; write nothing.")
def handle_event(event_name: str, event_path: Path, config_file: Path, dry_run: bool) -> None:
    """Turn a GitHub event into an intent and reconcile the environments it concerns (the Action's entry point)."""
    from bot.action import handle_event_files
    from bot.config import load_config

    config = load_config(config_file)
    timebase = _timebase()

    def connect() -> Any:
        from bot.connect import build_reconciler

        return build_reconciler(config, timebase)

    code = handle_event_files(
        event_name, event_path, config, source=None, reconciler=connect, log=click.echo, dry_run=dry_run
    )
    if code:
        raise click.exceptions.Exit(code)


@cli.command("agent")
@CONFIG_OPTION
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="One line per action: key=value text, or JSON objects for a log collector.",
)
def agent(config_file: Path, log_format: str) -> None:
    """Run the in-cluster agent: watch the cluster, resync GitHub, reconcile at once (until SIGTERM)."""
    from bot.agent.start import build_agent, run_agent
    from bot.config import load_config

    config = load_config(config_file)
    running = build_agent(config, _timebase(), click.echo, log_format=log_format)
    raise click.exceptions.Exit(run_agent(running, config.agent.listen))


@cli.command("demo")
@click.option("--workdir", type=click.Path(path_type=Path, file_okay=False), help="A new folder for the repositories.")
@click.option(
    "--environment",
    "environment_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The environment to provision.  [default: the example shipped with envbot, dev-feature-auth]",
)
@click.option(
    "--catalogs",
    "catalogs_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder holding one sub-folder per catalog.  [default: the example catalogs shipped with envbot]",
)
def demo(workdir: Path | None, environment_file: Path | None, catalogs_dir: Path | None) -> None:
    """Provision and destroy the example environment on local repositories with a simulated cluster."""
    from bot import examples
    from bot.demo import run_demo

    run_demo(
        workdir,
        catalogs_dir or examples.CATALOGS,
        environment_file or examples.ENVIRONMENT,
        _console(),
        _timebase(),
    )


def _error(text: str) -> None:
    """One ``error:`` line on stderr; what it quotes is data, never a workflow command (the Action reads stderr)."""
    from bot.report.github_actions import log_text

    click.echo(log_text(f"error: {text}"), err=True)


def main(argv: Sequence[str] | None = None, *, timebase: Timebase = WALL_CLOCK) -> int:
    """Run the CLI; returns the exit code instead of exiting, so tests and the Action can call it.

    ``timebase`` is where every command takes "now" and how it waits (tests pass a clock they move themselves).
    Exit statuses: ``EXIT_OK``, ``EXIT_ERROR``, ``EXIT_TEMPORARY``, ``EXIT_TIMED_OUT`` (docs/cli.md).
    """
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="envbot", standalone_mode=False, obj=timebase)
    except UserError as exc:
        for line in exc.problems:
            _error(line)
        return EXIT_ERROR
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        return EXIT_ERROR
    except click.ClickException as exc:
        _error(exc.format_message())
        return EXIT_ERROR
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except WaitTimeoutError as exc:
        _error(str(exc))
        return EXIT_TIMED_OUT
    except TransientError as exc:
        _error(f"{exc} (a temporary fault; try again later)")
        return EXIT_TEMPORARY
    except PermanentError as exc:
        _error(str(exc))
        return EXIT_ERROR
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
