"""Figures 2 and 5: one scheduled sweep over n unchanged, Ready environments, and its peak memory.

The parent renders the environments once and serves their Workspaces and Applications from kmock's
KubernetesEmulator on 127.0.0.1. Each sweep runs in a child process (``python benchmarks/sweep.py --child SPEC``)
that seeds the GitHub fakes with the rendered files and handles a ``schedule`` event with ``EventHandler``, as
the Action does: first a cold sweep with an empty blob cache, then, in a NEW process with new forges and a new
KubeCluster, a warm sweep that shares the blob cache on disk. The warm sweep is the steady state.
"""

from __future__ import annotations

import cProfile
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from common import (
    CATALOGS,
    EXAMPLE,
    PROJECT_ROOT,
    FakeClock,
    add_pull_request,
    forge_for,
    github_fakes,
    peak_rss_mb,
    rss_mb,
)

from bot.catalog.model import CatalogSet
from bot.catalog_files import load_catalogs
from bot.environment.bind import bind_environment
from bot.environment.model import Origin, OriginKind
from bot.environment.spec import parse_environment
from bot.render import RenderSettings, Repo, render_environment
from tests.webhooks import payload, repository_of

SCHEDULE = "schedule/hourly"  # the Actions event file of a cron run in acme/shop
CONTEXT = "envbot-bench"
SIZES = (10, 100, 1000)
CREATED = "2025-05-31T11:00:00Z"  # a day before the clock starts: settled, unchanged environments
AVAILABLE = "2025-05-31T11:05:00Z"


@dataclasses.dataclass
class SweepFigure:
    n: int
    github_requests: int
    kube_requests: int
    seconds: float
    peak_mb: float
    rss_before_mb: float
    github_by_forge: dict[str, int]
    kube_by_call: dict[str, int]

    def public(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "github_requests": self.github_requests,
            "kube_requests": self.kube_requests,
            "seconds": round(self.seconds, 3),
        }


# -- the world: n environments rendered once -----------------------------------------------------------------


def source_repository() -> str:
    return repository_of(SCHEDULE)


def environment_name(index: int) -> str:
    return f"feature-{index:04d}"


def origin_of(index: int, repository: str) -> Origin:
    """Even environments come from a branch, odd ones from a pull request (number index + 1)."""
    name = environment_name(index)
    if index % 2 == 0:
        return Origin(OriginKind.BRANCH, repository=repository, branch=name)
    return Origin(OriginKind.PULL_REQUEST, repository=repository, branch=name, pull_request=index + 1)


def example_outputs(catalogs: CatalogSet) -> dict[str, dict[str, Any]]:
    return {name: catalogs.catalogs[name].example_outputs() for name in catalogs.names()}


def render_world(count: int, path: Path) -> None:
    """Render ``count`` environments (the seed example, renamed) into a JSON file the children read."""
    catalogs = load_catalogs(CATALOGS)
    example = parse_environment(EXAMPLE.read_text(encoding="utf-8"), EXAMPLE.as_posix())
    outputs = example_outputs(catalogs)
    settings = RenderSettings()
    repository = source_repository()
    environments = []
    for index in range(count):
        name = environment_name(index)
        wanted = dataclasses.replace(example, name=name, namespace=name, origin=origin_of(index, repository))
        result = render_environment(bind_environment(wanted, catalogs), outputs, settings)
        if result.pending:
            raise RuntimeError(f"{name}: rendering left parts pending: {result.pending}")
        environments.append({"name": name, "platform": result.files(Repo.PLATFORM), "apps": result.files(Repo.APPS)})
    path.write_text(json.dumps({"environments": environments}), encoding="utf-8")


def cluster_objects(world: dict[str, Any], count: int, catalogs: CatalogSet) -> list[dict[str, Any]]:
    """Every Workspace (Available, with outputs) and Application (Synced, Healthy) of the first ``count``."""
    objects: list[dict[str, Any]] = []
    for environment in world["environments"][:count]:
        for files in (environment["platform"], environment["apps"]):
            for content in files.values():
                for document in yaml.safe_load_all(content):
                    if isinstance(document, dict) and document.get("kind") == "Workspace":
                        objects.append(_available(document, catalogs))
                    elif isinstance(document, dict) and document.get("kind") == "Application":
                        objects.append(_healthy(document))
    return objects


def _metadata(document: dict[str, Any], finalizer: str) -> dict[str, Any]:
    metadata = dict(document["metadata"])
    metadata.update(generation=1, creationTimestamp=CREATED, resourceVersion="1", uid=f"uid-{metadata['name']}")
    metadata.setdefault("finalizers", [finalizer])
    return metadata


def _available(document: dict[str, Any], catalogs: CatalogSet) -> dict[str, Any]:
    catalog = catalogs.catalogs[document["metadata"]["labels"]["envbot.io/catalog"]]
    outputs = {
        out.terraform_output: out.example
        for out in catalog.outputs.values()
        if not out.sensitive and out.example is not None
    }
    conditions = [
        {"type": "Synced", "status": "True", "reason": "ReconcileSuccess", "lastTransitionTime": CREATED},
        {"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": AVAILABLE},
    ]
    return {
        **document,
        "metadata": _metadata(document, "finalizer.managedresource.crossplane.io"),
        "status": {"conditions": conditions, "observedGeneration": 1, "atProvider": {"outputs": outputs}},
    }


def _healthy(document: dict[str, Any]) -> dict[str, Any]:
    return {
        **document,
        "metadata": _metadata(document, "resources-finalizer.argocd.argoproj.io"),
        "status": {
            "sync": {"status": "Synced"},
            "health": {"status": "Healthy", "lastTransitionTime": AVAILABLE},
        },
    }


# -- the parent: emulator, children ----------------------------------------------------------------------------


def measure(sizes: tuple[int, ...], workdir: Path, profile: Path | None = None) -> dict[int, dict[str, SweepFigure]]:
    """For each n: the cold and the warm sweep, each in its own process, against one emulator."""
    from tests.cluster.cluster_support import Emulator, write_kubeconfig

    world_path = workdir / "world.json"
    render_world(max(sizes), world_path)
    world = json.loads(world_path.read_text(encoding="utf-8"))
    catalogs = load_catalogs(CATALOGS)
    figures: dict[int, dict[str, SweepFigure]] = {}
    for n in sizes:
        # Each child reads only its own n environments, so that its peak memory is that of n.
        own_world = workdir / f"world-{n}.json"
        own_world.write_text(json.dumps({"environments": world["environments"][:n]}), encoding="utf-8")
        emulator = Emulator()
        try:
            emulator.add(*cluster_objects(world, n, catalogs))
            kubeconfig = write_kubeconfig(workdir / f"kubeconfig-{n}", emulator.url, CONTEXT)
            cache = workdir / f"blob-cache-{n}"
            spec: dict[str, Any] = {"n": n, "world": str(own_world), "kubeconfig": str(kubeconfig), "cache": str(cache)}
            figures[n] = {"cold": _child(spec, workdir), "warm": _child(spec, workdir)}
            if profile is not None and n == max(sizes):  # a third, profiled run: cProfile slows what it watches
                _child({**spec, "profile": str(profile)}, workdir)
        finally:
            emulator.close()
    return figures


def _child(spec: dict[str, Any], workdir: Path) -> SweepFigure:
    spec_path = workdir / f"spec-{spec['n']}.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(spec_path)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the sweep child for n={spec['n']} failed:\n{done.stderr[-4000:]}")
    return SweepFigure(**json.loads(done.stdout.strip().splitlines()[-1]))


# -- the child: one sweep ------------------------------------------------------------------------------------


def child(spec_path: Path) -> SweepFigure:
    from bot.action import EventHandler, load_event
    from bot.cluster.kube import KubeCluster
    from bot.config import load_config
    from bot.reconcile.model import Phase
    from bot.reconcile.runner import Reconciler
    from bot.report.pull_requests import WORDING

    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    n = int(spec["n"])
    environments = json.loads(Path(spec["world"]).read_text(encoding="utf-8"))["environments"][:n]
    repository = source_repository()
    catalogs = load_catalogs(CATALOGS)
    with tempfile.TemporaryDirectory(prefix="envbot-bench-sweep-") as tmp:
        root = Path(tmp)
        config_path = root / "envbot.yaml"
        config_path.write_text(
            yaml.safe_dump(
                {
                    "platform": {"repository": "acme/gitops-platform"},
                    "apps": {"repository": "acme/gitops-apps"},
                    "catalogs": str(CATALOGS),
                    "events": {"repository": repository},
                }
            ),
            encoding="utf-8",
        )
        config = load_config(config_path)
        event_path = root / "schedule.json"
        schedule = payload(SCHEDULE, schedule="17 * * * *")
        event_path.write_text(json.dumps(schedule), encoding="utf-8")
        with github_fakes(repository) as (platform_fake, apps_fake, source_fake):
            platform_files = {"README.md": "platform\n"}
            app_files = {"README.md": "apps\n"}
            for environment in environments:
                platform_files.update(environment["platform"])
                app_files.update(environment["apps"])
            platform_fake.seed(platform_files)
            apps_fake.seed(app_files)
            source_fake.seed({"README.md": "app\n"})
            for index in range(n):
                origin = origin_of(index, repository)
                if origin.pull_request is not None:
                    add_pull_request(source_fake, origin.pull_request, environment_name(index))
                else:
                    source_fake.seed({"README.md": f"{origin.branch}\n"}, branch=origin.branch)
            del environments, platform_files, app_files

            cache = Path(spec["cache"])
            platform = forge_for(platform_fake, blob_cache=cache)
            apps = forge_for(apps_fake, blob_cache=cache)
            source = forge_for(source_fake)
            kube = KubeCluster.from_kubeconfig(spec["kubeconfig"], CONTEXT)
            clock = FakeClock()
            reconciler = Reconciler(
                platform, apps, kube, catalogs, WORDING, settings=config.render, clock=clock.now, sleep=clock.sleep
            )
            logs: list[str] = []
            environ = {"GITHUB_OUTPUT": str(root / "output"), "GITHUB_STEP_SUMMARY": str(root / "summary.md")}
            handler = EventHandler(config, source, reconciler, logs.append, environ=environ)
            event = load_event("schedule", event_path)
            calls_before = sum(len(f.calls) for f in (platform_fake, apps_fake, source_fake))
            before = rss_mb()
            profiler = cProfile.Profile() if spec.get("profile") else None
            started = time.perf_counter()
            if profiler is not None:
                code = profiler.runcall(handler.handle, event)
                profiler.dump_stats(spec["profile"])
            else:
                code = handler.handle(event)
            seconds = time.perf_counter() - started
            peak = peak_rss_mb()
            kube.close()
            phases = {row.phase for row in handler.rows}
            writes = [
                f"{c.method} {c.path}"
                for f in (platform_fake, apps_fake, source_fake)
                for c in f.calls[calls_before:]
                if c.method != "GET"
            ]
            if code != 0 or len(handler.rows) != n or phases != {Phase.READY} or writes:
                raise RuntimeError(f"the sweep was not a no-op: exit {code}, {phases}, writes {writes[:5]}, {logs[:5]}")
            by_forge = {"platform": platform.request_count, "apps": apps.request_count, "source": source.request_count}
            return SweepFigure(
                n=n,
                github_requests=sum(by_forge.values()),
                kube_requests=kube.total_api_calls,
                seconds=seconds,
                peak_mb=peak,
                rss_before_mb=before,
                github_by_forge=by_forge,
                kube_by_call=dict(kube.api_calls),
            )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(dataclasses.asdict(child(Path(sys.argv[2])))))
    else:
        sys.exit("usage: python benchmarks/sweep.py --child SPEC.json (run benchmarks/run.py instead)")
