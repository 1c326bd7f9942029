"""GitHubForge retries over real sockets (pytest-httpserver on 127.0.0.1): bounded, counted, and token-safe."""

from __future__ import annotations

import json
import logging
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from bot.forge import ForgeNotFoundError, ForgeRejectedError, ForgeUnavailableError
from bot.forge.github import GitHubForge
from bot.forge.retry import RetryPolicy
from tests.forge.support import TOKEN

PULL = "/api/v3/repos/acme/platform/pulls/1"
PR_JSON = {
    "number": 1,
    "state": "open",
    "title": "t",
    "body": None,
    "head": {"ref": "envbot/dev/infra", "sha": "a" * 40},
    "base": {"ref": "main", "sha": "b" * 40},
    "labels": [],
    "merged": False,
    "mergeable": True,
}
SECONDARY = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}


class Sleeps:
    """Records the waits a RetryPolicy asks for instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def make_forge(server: HTTPServer, policy: RetryPolicy | None = None) -> GitHubForge:
    return GitHubForge(
        "acme/platform", TOKEN, base_url=server.url_for("/api/v3"), retry=policy, seconds_between_writes=None
    )


def fail(server: HTTPServer, status: int, body: dict[str, object] | None = None, **headers: str) -> None:
    response = Response(json.dumps(body or {"message": "Server Error"}), status=status, headers=headers)
    server.expect_ordered_request(PULL, method="GET").respond_with_response(response)


def test_server_errors_are_retried_with_backoff(httpserver: HTTPServer) -> None:
    sleeps = Sleeps()
    fail(httpserver, 502)
    fail(httpserver, 502)
    httpserver.expect_ordered_request(PULL, method="GET").respond_with_json(PR_JSON)
    forge = make_forge(httpserver, RetryPolicy(sleep=sleeps))
    assert forge.get_pull_request(1).mergeable is True
    assert forge.request_count == 3 == len(httpserver.log)
    assert sleeps.waits == [1.0]  # urllib3 retries the first failure at once, then backs off exponentially


def test_secondary_rate_limit_waits_for_retry_after(httpserver: HTTPServer) -> None:
    fail(httpserver, 403, SECONDARY, **{"Retry-After": "1"})
    httpserver.expect_ordered_request(PULL, method="GET").respond_with_json(PR_JSON)
    sleeps = Sleeps()
    forge = make_forge(httpserver, RetryPolicy(sleep=sleeps))
    assert forge.get_pull_request(1).number == 1
    assert sleeps.waits == [1.0]  # exactly what Retry-After asked for
    assert forge.request_count == 2


def test_a_wait_past_the_budget_fails_at_once(httpserver: HTTPServer) -> None:
    sleeps = Sleeps()
    fail(httpserver, 429, {"message": "Too many requests"}, **{"Retry-After": "3600"})
    forge = make_forge(httpserver, RetryPolicy(sleep=sleeps))
    with pytest.raises(ForgeUnavailableError, match="retry budget"):
        forge.get_pull_request(1)
    assert sleeps.waits == [] and forge.request_count == 1  # not one second spent waiting


def test_secondary_rate_limit_without_retry_after_is_not_waited_out(httpserver: HTTPServer) -> None:
    fail(httpserver, 403, SECONDARY)  # GitHub's advice is to wait a minute: past the 20 s budget
    forge = make_forge(httpserver, RetryPolicy(sleep=Sleeps()))
    with pytest.raises(ForgeUnavailableError):
        forge.get_pull_request(1)
    assert forge.request_count == 1


def test_primary_rate_limit_waits_for_a_near_reset_only(httpserver: HTTPServer) -> None:
    sleeps = Sleeps()
    limited = {"message": "API rate limit exceeded for installation ID 1."}
    now = float(int(time.time()))  # PyGithub compares the reset with the real time; our policy with this, fixed
    soon, later = str(int(now) + 3), str(int(now) + 3600)
    fail(httpserver, 403, limited, **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": soon})
    httpserver.expect_ordered_request(PULL, method="GET").respond_with_json(PR_JSON)
    fail(httpserver, 403, limited, **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": later})
    forge = make_forge(httpserver, RetryPolicy(sleep=sleeps, epoch_seconds=lambda: now))
    assert forge.get_pull_request(1).number == 1
    assert sleeps.waits == [4.0]  # until the reset, plus a second of margin
    with pytest.raises(ForgeUnavailableError):
        forge.get_pull_request(1)
    assert forge.request_count == 3


def test_a_persistent_outage_gives_up_within_the_budget(httpserver: HTTPServer) -> None:
    sleeps = Sleeps()
    httpserver.expect_request(PULL, method="GET").respond_with_json({"message": "Service Unavailable"}, status=503)
    forge = make_forge(httpserver, RetryPolicy(sleep=sleeps))
    with pytest.raises(ForgeUnavailableError, match="503"):
        forge.get_pull_request(1)
    assert forge.request_count == 5 == len(httpserver.log)  # the first try and 4 retries
    assert sum(sleeps.waits) <= RetryPolicy().max_total_wait


def test_a_persistent_outage_with_a_small_backoff_waits_little(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PULL, method="GET").respond_with_data("bad gateway", status=502)
    sleeps = Sleeps()
    forge = make_forge(httpserver, RetryPolicy(retries=3, backoff_factor=0.05, sleep=sleeps))
    with pytest.raises(ForgeUnavailableError):
        forge.get_pull_request(1)
    assert forge.request_count == 4
    assert sum(sleeps.waits) < 0.5, sleeps.waits  # 0.1 + 0.2: the first retry is immediate


def test_client_errors_are_not_retried(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PULL, method="GET").respond_with_json({"message": "Not Found"}, status=404)
    forge = make_forge(httpserver, RetryPolicy(sleep=Sleeps()))
    with pytest.raises(ForgeNotFoundError):
        forge.get_pull_request(1)
    assert forge.request_count == 1


def test_writes_are_retried_too(httpserver: HTTPServer) -> None:
    comments = "/api/v3/repos/acme/platform/issues/1/comments"
    httpserver.expect_ordered_request(comments, method="GET").respond_with_json([])
    httpserver.expect_ordered_request(comments, method="POST").respond_with_data("", status=502)
    made = {"id": 7, "body": "<!-- k -->\nhi", "html_url": "u"}
    httpserver.expect_ordered_request(comments, method="POST").respond_with_json(made, status=201)
    httpserver.expect_ordered_request(comments, method="GET").respond_with_json([made])  # no concurrent duplicate
    forge = make_forge(httpserver, RetryPolicy(sleep=Sleeps()))
    assert forge.upsert_comment(1, "k", "hi").id == 7
    assert forge.request_count == 4


def test_the_token_is_sent_but_never_logged_or_raised(httpserver: HTTPServer, caplog: pytest.LogCaptureFixture) -> None:
    httpserver.expect_request(PULL, method="GET").respond_with_json(
        {"message": f"Bad credentials (you sent {TOKEN})"}, status=401
    )
    forge = make_forge(httpserver, RetryPolicy(sleep=Sleeps()))
    with caplog.at_level(logging.DEBUG), pytest.raises(ForgeRejectedError) as caught:
        forge.get_pull_request(1)
    request, _ = httpserver.log[0]
    assert TOKEN in request.headers["Authorization"]  # the token really was in play
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert "401" in str(caught.value) and "***" in str(caught.value)
    assert TOKEN not in caplog.text


def test_an_unreachable_server_is_transient() -> None:
    sleeps = Sleeps()
    forge = GitHubForge(
        "acme/platform", TOKEN, base_url="http://127.0.0.1:9/api/v3", retry=RetryPolicy(sleep=sleeps), timeout=2
    )
    with pytest.raises(ForgeUnavailableError):
        forge.permission("alice")
    assert forge.request_count == 5 and sum(sleeps.waits) <= RetryPolicy().max_total_wait
