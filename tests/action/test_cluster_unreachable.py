"""A runner that cannot reach the Kubernetes API server: the pull request is told why and how to fix it, nothing is
written to the GitOps repositories, and the run still fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cluster.errors import ClusterUnavailableError
from tests.action.conftest import OpenWorld
from tests.cluster.cluster_support import free_port, write_kubeconfig
from tests.webhooks import payload, repository_of

COMMENT = "issue_comment/created-on-pull-request"  # on #42, by nadia


def test_an_unreachable_cluster_is_explained_on_the_pull_request(open_world: OpenWorld, tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{free_port()}")
    world = open_world(repository_of(COMMENT), extra={"cluster": {"type": "kubernetes", "kubeconfig": str(kubeconfig)}})
    world.add_pull_request(42, "feature-login")
    world.fake.grant("nadia", "write")
    refs = world.gitops_refs()

    with pytest.raises(ClusterUnavailableError):
        world.handle("issue_comment", payload(COMMENT, comment__body="/provision"))

    (reply,) = [body for body in world.comments(42) if body.startswith("<!-- envbot:reply:")]
    assert "`/provision` was not carried out: envbot could not reach the cluster (`Kubernetes API at " in reply
    assert "Run `envbot agent` in the cluster and set `agent.enabled`" in reply
    assert world.gitops_refs() == refs
