"""The agent's image: the Dockerfile's rules, its .dockerignore, and the workflow that publishes it on tags."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from project_paths import PROJECT_ROOT

from bot import yamldoc
from tests.deploy.kustomize import build, by_kind, read_base

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
DOCKERIGNORE = PROJECT_ROOT / ".dockerignore"
WORKFLOW = PROJECT_ROOT / ".github" / "workflows" / "image.yml"
SHA_PINNED = re.compile(r"(?P<action>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
SECRET_NAMES = re.compile(r"TOKEN|SECRET|PASSWORD|PRIVATE|CREDENTIAL|_KEY\b", re.IGNORECASE)


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined and comments left out."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in path.read_text().splitlines() if not line.startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip()) for line in joined.splitlines() if line]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(index for index, (name, _) in enumerate(steps) if name == "FROM")
    return steps[last_from:]


def agent_pod() -> dict[str, Any]:
    spec: dict[str, Any] = by_kind(build(read_base()))["Deployment"]["spec"]["template"]["spec"]
    return spec


def test_the_base_is_an_official_slim_python_pinned_by_tag_with_how_to_pin_the_digest() -> None:
    steps = instructions()
    (default,) = [args for name, args in steps if name == "ARG" and args.startswith("PYTHON_IMAGE=")]
    image = default.removeprefix("PYTHON_IMAGE=")
    assert re.fullmatch(r"python:3\.1[12](\.\d+)?-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?", image), image
    assert [args for name, args in steps if name == "FROM"] == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE}"]
    assert "@sha256:" in image or "docker buildx imagetools inspect" in DOCKERFILE.read_text()


def test_the_project_is_installed_with_pip_and_the_image_runs_the_agent_as_a_numeric_non_root_user() -> None:
    assert any(name == "RUN" and "pip install --no-cache-dir ." in args for name, args in instructions())
    stage = final_stage()
    (user,) = [args for name, args in stage if name == "USER"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0 and gid.isdigit() and int(gid) > 0
    context = agent_pod()["securityContext"]
    assert (context["runAsUser"], context["runAsGroup"]) == (int(uid), int(gid)), "the Deployment runs the same user"
    entrypoint = [json.loads(args) for name, args in stage if name == "ENTRYPOINT"]
    command = [json.loads(args) for name, args in stage if name == "CMD"]
    assert entrypoint == [["envbot"]] and command == [["agent", "--config", "/etc/envbot/envbot.yaml"]]
    (container,) = agent_pod()["containers"]
    assert container["args"][:3] == command[0], "the Deployment's arguments start as the image's command"


def test_no_secret_is_baked_into_the_image() -> None:
    for name, args in instructions():
        if name in {"ENV", "ARG", "LABEL"}:
            assert not SECRET_NAMES.search(args), f"{name} {args}"
        if name in {"COPY", "ADD"}:
            assert not re.search(r"\.pem|\.key|\.env|secret", args, re.IGNORECASE), f"{name} {args}"


def test_the_build_context_is_only_what_the_dockerfile_copies() -> None:
    """.dockerignore leaves out everything, then lets in exactly the sources of the build stage's COPY lines."""
    lines = [line for line in DOCKERIGNORE.read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = set()
    for name, args in instructions():
        if name == "COPY" and not args.startswith("--from="):
            copied.update(args.split()[:-1])
    assert copied == allowed == {"pyproject.toml", "README.md", "bot"}


# -- the workflow that publishes it ------------------------------------------------------------------------------


def workflow() -> dict[str, Any]:
    document: dict[str, Any] = yamldoc.load_one(WORKFLOW.read_text(encoding="utf-8"))
    return document


def test_the_image_is_published_on_version_tags_only_with_least_privilege() -> None:
    document = workflow()
    assert document["on"] == {"push": {"tags": ["v*"]}}
    assert document["permissions"] == {}
    (job,) = document["jobs"].values()
    assert job["permissions"] == {"contents": "read", "packages": "write"}
    steps = {step["uses"].partition("@")[0]: step for step in job["steps"]}
    assert steps["actions/checkout"]["with"] == {"persist-credentials": False}
    assert steps["docker/login-action"]["with"]["registry"] == "ghcr.io"
    assert steps["docker/login-action"]["with"]["password"] == "${{ secrets.GITHUB_TOKEN }}"
    assert steps["docker/metadata-action"]["with"]["images"] == "ghcr.io/${{ github.repository_owner }}/envbot"
    assert steps["docker/build-push-action"]["with"]["push"] is True


def test_every_action_is_pinned_by_commit_sha_with_its_version_beside_it() -> None:
    uses = [line.split("uses:", 1)[1].strip() for line in WORKFLOW.read_text().splitlines() if "uses:" in line]
    pinned = [match["action"] for use in uses if (match := SHA_PINNED.fullmatch(use))]
    assert pinned == [
        "actions/checkout",
        "docker/setup-buildx-action",
        "docker/login-action",
        "docker/metadata-action",
        "docker/build-push-action",
    ]
    assert len(pinned) == len(uses)
