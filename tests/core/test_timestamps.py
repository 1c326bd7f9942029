"""One timestamp format: ``parse_timestamp`` reads what GitHub, Kubernetes, git and envbot write, and nothing else."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.clock import parse_timestamp, utc_timestamp
from bot.cluster.model import parse_time
from bot.environment.record import parse_record
from bot.errors import EnvironmentSpecError
from bot.forge.model import created_at

NOON = dt.datetime(2026, 3, 9, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2026-03-09T12:00:00Z", NOON),  # GitHub, Kubernetes, envbot's records
        ("2026-03-09T12:00:00.250Z", NOON + dt.timedelta(milliseconds=250)),
        ("2026-03-09T12:00:00.123456789Z", NOON + dt.timedelta(microseconds=123456)),  # Go's nanoseconds
        ("2026-03-09T14:00:00+02:00", NOON),  # git's %cI
        ("2026-03-09T07:30:00-04:30", NOON),
        ("2026-03-09T12:00:00+00:00", NOON),  # Python's isoformat of a UTC time
        ("2026-03-09T12:00:00.000001+00:00", NOON + dt.timedelta(microseconds=1)),
    ],
)
def test_rfc3339_times_are_read_as_utc(text: str, instant: dt.datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == instant
    assert parsed.tzinfo is dt.UTC


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026-03-09",  # a date is no instant
        "2026-03-09T12:00:00",  # no zone: whose noon?
        "2026-03-09 12:00:00Z",
        "2026-03-09T12:00Z",
        "2026-03-09T12:00:00+0200",
        "2026-03-09T12:00:00 +02:00",
        "2026-13-09T12:00:00Z",
        "2026-03-09T12:00:00Z\n",
        "20260309T120000Z",
        "yesterday",
        "\uff12\uff10\uff12\uff16-03-09T12:00:00Z",  # full-width digits are digits to Python, not to RFC 3339
    ],
)
def test_anything_else_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_what_envbot_writes_it_reads_back() -> None:
    when = dt.datetime(2026, 3, 9, 14, 0, 59, 999999, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert parse_timestamp(utc_timestamp(when)) == dt.datetime(2026, 3, 9, 12, 0, 59, tzinfo=dt.UTC)


def test_forge_and_cluster_times_come_out_in_utc_or_not_at_all() -> None:
    assert created_at({"created_at": "2026-03-09T14:00:00+02:00"}) == NOON
    assert created_at({"created_at": "2026-03-09T14:00:00+02:00"}).tzinfo is dt.UTC  # type: ignore[union-attr]
    assert created_at({"created_at": "2026-03-09T12:00:00"}) is None  # no zone: unreadable, as documented
    assert created_at({"created_at": "soon"}) is None
    assert created_at({}) is None
    assert parse_time("2026-03-09T14:00:00+02:00") == NOON
    assert parse_time("2026-03-09T14:00:00+02:00").tzinfo is dt.UTC  # type: ignore[union-attr]
    assert parse_time("2026-03-09") is None
    assert parse_time(dt.datetime(2026, 3, 9, 12, 0)) == NOON  # a datetime the client made keeps its reading


def _record(requested_at: str) -> str:
    return f"""apiVersion: envbot.io/v1alpha1
kind: EnvironmentRecord
environment:
  apiVersion: envbot.io/v1alpha1
  kind: Environment
  name: dev
  type: pre-release
  cluster: dev-cluster
  catalogs:
    - name: s3-bucket
deletion:
  requestedAt: "{requested_at}"
  requestedBy: alice
"""


def test_a_record_names_its_requests_in_rfc3339() -> None:
    deletion = parse_record(_record("2026-03-09T14:00:00+02:00"), "environment.yaml").deletion
    assert deletion is not None and deletion.requested_at == NOON and deletion.requested_at.tzinfo is dt.UTC
    for unreadable in ("2026-03-09T12:00:00", "2026-03-09", "2026-03-09 12:00:00+00:00"):
        with pytest.raises(EnvironmentSpecError, match=r"deletion\.requestedAt: must be an RFC 3339 time"):
            parse_record(_record(unreadable), "environment.yaml")
