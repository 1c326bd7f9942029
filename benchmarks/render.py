"""Figure 3: environments rendered per second (parse + bind + render with outputs), and the plain-Jinja2 baseline."""

from __future__ import annotations

import cProfile
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml
from common import CATALOGS, EXAMPLE

from bot.catalog.model import CatalogSet
from bot.catalog_files import load_catalogs
from bot.environment.bind import bind_environment
from bot.environment.spec import parse_environment
from bot.render import RenderResult, RenderSettings, render_environment


@dataclass
class RenderFigure:
    envs_per_s: float
    ms_per_env: float
    baseline_ms_per_env: float
    ratio: float
    files: int
    documents: int


@contextmanager
def one_core() -> Iterator[None]:
    """Pin this process to one CPU for the measurement (where the platform allows it)."""
    if not hasattr(os, "sched_getaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


class Workload:
    """The seed example, rendered by envbot and by a plain Jinja2 + PyYAML baseline that writes the same files."""

    def __init__(self, catalogs_dir: Path = CATALOGS) -> None:
        self.catalogs: CatalogSet = load_catalogs(catalogs_dir)
        self.text = EXAMPLE.read_text(encoding="utf-8")
        self.outputs = {name: self.catalogs.catalogs[name].example_outputs() for name in self.catalogs.names()}
        self.settings = RenderSettings()
        reference = self.envbot()
        if reference.pending:
            raise RuntimeError(f"the seed example left parts pending: {reference.pending}")
        self.files = len(reference.platform) + len(reference.apps)
        self.documents = sum(len(list(yaml.safe_load_all(f.content))) for f in (*reference.platform, *reference.apps))
        # The baseline: the same templates in a plain (unsandboxed) Jinja2 environment, compiled once as envbot's
        # are; the record and the Workspace come from no template, so it dumps them from plain dicts.
        plain = jinja2.Environment(keep_trailing_newline=True, autoescape=False)
        document = yaml.safe_load(self.text)
        self.templates: list[tuple[str, jinja2.Template]] = []
        self.defaults: dict[str, dict[str, Any]] = {}
        for request in document["catalogs"]:
            catalog = self.catalogs.catalogs[request["name"]]
            self.defaults[catalog.name] = {p.name: p.default for p in catalog.parameters.values() if p.has_default}
            self.templates.extend((catalog.name, plain.from_string(t.source)) for t in catalog.templates)
        self.untemplated = [list(yaml.safe_load_all(f.content)) for f in reference.platform]
        baseline_documents = sum(len(list(yaml.safe_load_all(text))) for text in self.baseline())
        if baseline_documents != self.documents:
            raise RuntimeError(f"the baseline writes {baseline_documents} documents, envbot {self.documents}")

    def envbot(self) -> RenderResult:
        environment = parse_environment(self.text, "examples/dev-feature-auth.yaml")
        bound = bind_environment(environment, self.catalogs)
        return render_environment(bound, self.outputs, self.settings)

    def baseline(self) -> list[str]:
        document = yaml.safe_load(self.text)
        environment = {
            key: document.get(key, "") for key in ("name", "namespace", "type", "description", "cluster", "owner")
        }
        params: dict[str, dict[str, Any]] = {}
        for request in document["catalogs"]:
            given = dict(request.get("parameters") or {})
            for key, value in given.items():
                if isinstance(value, dict) and "fromOutput" in value:
                    source, output = value["fromOutput"].split(".")
                    given[key] = self.outputs[source][output]
                elif isinstance(value, dict) and "fromSecret" in value:
                    given[key] = {**value["fromSecret"], "env": None}
            params[request["name"]] = {**self.defaults[request["name"]], **given}
        texts: list[str] = []
        for name, template in self.templates:
            labels = {"envbot.io/environment": environment["name"], "envbot.io/catalog": name}
            rendered = template.render(
                environment=environment, catalog={"name": name}, params=params[name], labels=labels
            )
            texts.append(yaml.safe_dump_all(list(yaml.safe_load_all(rendered)), sort_keys=False))
        texts.extend(yaml.safe_dump_all(documents, sort_keys=False) for documents in self.untemplated)
        return texts


def _per_call(function: Callable[[], object], seconds: float) -> float:
    """Seconds per call of ``function``, run for about ``seconds``."""
    calls = 0
    started = time.perf_counter()
    while True:
        function()
        calls += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return elapsed / calls


def measure(*, seconds: float = 1.5, rounds: int = 3, profile: Path | None = None) -> RenderFigure:
    """Alternate envbot and baseline rounds on one core; the median of each."""
    work = Workload()
    ours: list[float] = []
    theirs: list[float] = []
    with one_core():
        work.envbot()
        work.baseline()
        for _ in range(rounds):
            ours.append(_per_call(work.envbot, seconds))
            theirs.append(_per_call(work.baseline, seconds))
        if profile is not None:
            profiler = cProfile.Profile()
            profiler.runcall(lambda: [work.envbot() for _ in range(200)])
            profiler.dump_stats(profile)
    mine, base = statistics.median(ours), statistics.median(theirs)
    return RenderFigure(
        envs_per_s=1 / mine,
        ms_per_env=mine * 1e3,
        baseline_ms_per_env=base * 1e3,
        ratio=mine / base,
        files=work.files,
        documents=work.documents,
    )
