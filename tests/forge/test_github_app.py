"""envbot as a GitHub App: installation tokens minted with the App's JWT, renewed before they expire, typed errors, no
secret anywhere, and ``connect.open_forge`` choosing the App when ``github.app`` is configured."""

from __future__ import annotations

import datetime as dt
import json
import traceback
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from manual_clock import ManualClock
from project_paths import CATALOGS
from pytest_httpserver import HTTPServer
from werkzeug import Response

from bot.config import load_config
from bot.connect import build_reconciler, open_forge, open_source_forge
from bot.errors import UserError
from bot.forge import FileChange, ForgeRejectedError, ForgeUnavailableError
from bot.forge.github import GitHubForge
from bot.forge.github_app import AppAuthenticationError, InstallationTokens
from bot.forge.retry import RetryPolicy
from tests.fakes.github_api import MINT_OPERATION, FakeApp, FakeGitHub, own_api, upstream_api
from tests.forge.conftest import seeded_fake
from tests.forge.support import TOKEN, github_forge, no_sleep
from tests.secrets.canaries import Scan, canary
from tests.secrets.test_secret_hygiene import debug_everywhere

APP_ID = 12345
INSTALLATION = 678
MINT_PATH = f"/api/v3/app/installations/{INSTALLATION}/access_tokens"


def pem_of(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, password: bytes | None = None) -> bytes:
    encryption = serialization.NoEncryption() if password is None else serialization.BestAvailableEncryption(password)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, encryption)


@pytest.fixture(scope="module")
def app_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    """A key that is not the App's."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app_fake(app_key: rsa.RSAPrivateKey, clock: ManualClock) -> Iterator[FakeGitHub]:
    """The GitHub fake in App mode, on the test's clock."""
    with seeded_fake(own_api(), clock) as fake:
        fake.app = FakeApp(APP_ID, INSTALLATION, app_key.public_key())
        yield fake


def tokens_for(
    fake: FakeGitHub, key: rsa.RSAPrivateKey, clock: ManualClock, *, installation: int = INSTALLATION
) -> InstallationTokens:
    return InstallationTokens(
        APP_ID, installation, key, base_url=fake.base_url, clock=clock, retry=RetryPolicy(sleep=no_sleep)
    )


def app_forge(fake: FakeGitHub, tokens: InstallationTokens) -> GitHubForge:
    return GitHubForge(fake.repository, tokens, base_url=fake.base_url, seconds_between_writes=None)


def mints(fake: FakeGitHub) -> int:
    return fake.count(MINT_OPERATION)


# -- the token source and the forge on it ----------------------------------------------------------------------


def test_a_forge_on_the_app_writes_with_the_installation_token(
    app_fake: FakeGitHub, app_key: rsa.RSAPrivateKey, clock: ManualClock
) -> None:
    tokens = tokens_for(app_fake, app_key, clock)
    forge = app_forge(app_fake, tokens)
    assert forge.read_file("README.md", "main") == "# platform\n"
    forge.push_commit("envbot/dev/infrastructure", "main", [FileChange.write("a.yaml", "a: 1\n")], "envbot: a")

    assert mints(app_fake) == 1 and tokens.request_count == 1
    assert [c.status for c in app_fake.calls if c.status == 401] == []
    assert forge.request_count == app_fake.count() - 1  # the forge counts its own requests, not the mint
    (assertion,) = app_fake.app.assertions if app_fake.app else ()
    claims = jwt.decode(assertion, app_key.public_key(), algorithms=["RS256"], options={"verify_exp": False})
    now = int(clock().timestamp())
    assert claims == {"iss": str(APP_ID), "iat": now - 60, "exp": now + 540}


def test_in_app_mode_a_personal_access_token_is_bad_credentials(app_fake: FakeGitHub) -> None:
    with pytest.raises(ForgeRejectedError, match=r"401 Bad credentials \(check the token\)"):
        github_forge(app_fake).read_file("README.md", "main")


def test_the_token_is_renewed_before_it_expires(
    app_fake: FakeGitHub, app_key: rsa.RSAPrivateKey, clock: ManualClock
) -> None:
    forge = app_forge(app_fake, tokens_for(app_fake, app_key, clock))
    forge.branch_sha("main")
    assert app_fake.app is not None
    (first,) = app_fake.app.tokens
    clock.advance(dt.timedelta(minutes=54, seconds=59))
    forge.branch_sha("main")
    assert mints(app_fake) == 1  # more than 5 minutes left: the same token

    clock.advance(dt.timedelta(seconds=2))  # 55 minutes and a second: less than 5 minutes left
    assert app_fake.app.tokens[first] > clock()  # the old token still works ...
    forge.branch_sha("main")
    assert mints(app_fake) == 2  # ... yet a new one was minted first
    assert [c.operation for c in app_fake.calls[-2:]] == [MINT_OPERATION, "repos/get-branch"]
    assert app_fake.calls[-1].status == 200

    clock.advance(dt.timedelta(hours=3))  # long past both: a long-running agent's forge keeps working
    assert forge.branch_sha("main") is not None
    assert mints(app_fake) == 3 and [c for c in app_fake.calls if c.status == 401] == []


def test_a_refused_installation_token_is_replaced_once(
    app_fake: FakeGitHub, app_key: rsa.RSAPrivateKey, clock: ManualClock
) -> None:
    forge = app_forge(app_fake, tokens_for(app_fake, app_key, clock))
    forge.branch_sha("main")
    assert app_fake.app is not None

    def revoke_all() -> None:
        for token in app_fake.app.tokens if app_fake.app else ():
            app_fake.app.tokens[token] = clock() - dt.timedelta(seconds=1)

    revoke_all()
    with pytest.raises(ForgeUnavailableError, match="the installation token was refused; the next request mints"):
        forge.branch_sha("main")
    assert forge.branch_sha("main") is not None and mints(app_fake) == 2

    revoke_all()  # refused again right after a replacement: GitHub would refuse another one too
    with pytest.raises(ForgeRejectedError, match="401 Bad credentials"):
        forge.branch_sha("main")
    assert mints(app_fake) == 2


def test_a_401_on_the_mint_names_the_app_and_the_installation(
    app_fake: FakeGitHub, other_key: rsa.RSAPrivateKey, clock: ManualClock
) -> None:
    forge = app_forge(app_fake, tokens_for(app_fake, other_key, clock))
    with pytest.raises(AppAuthenticationError) as raised:
        forge.read_file("README.md", "main")
    message = str(raised.value)
    assert message == (
        f"GitHub refused the JWT of GitHub App {APP_ID} for installation {INSTALLATION} (401 A JSON web token could "
        "not be decoded): check github.app.id and that github.app.privateKeyFile holds that App's private key (and "
        "that this machine's clock is right)"
    )
    assert forge.request_count == 0  # no repository request was sent without a token


def test_a_jwt_from_a_clock_far_off_is_refused(
    app_fake: FakeGitHub, app_key: rsa.RSAPrivateKey, clock: ManualClock
) -> None:
    behind = ManualClock(clock() - dt.timedelta(minutes=15))
    with pytest.raises(AppAuthenticationError, match=r"\(401 'Expiration time' claim \('exp'\) must be"):
        tokens_for(app_fake, app_key, behind).token()


def test_an_unknown_installation_names_the_installation_setting(
    app_fake: FakeGitHub, app_key: rsa.RSAPrivateKey, clock: ManualClock
) -> None:
    with pytest.raises(AppAuthenticationError) as raised:
        tokens_for(app_fake, app_key, clock, installation=999).token()
    assert str(raised.value) == (
        f"GitHub App {APP_ID} has no installation 999 (404 Not Found): check github.app.installationId and that the "
        "App is installed on the GitOps repositories' owner"
    )


@pytest.mark.conformance
def test_the_token_answer_is_the_one_github_documents(app_key: rsa.RSAPrivateKey, clock: ManualClock) -> None:
    with seeded_fake(upstream_api(), clock) as fake:  # checks each answer against GitHub's OpenAPI description
        fake.app = FakeApp(APP_ID, INSTALLATION, app_key.public_key())
        assert app_forge(fake, tokens_for(fake, app_key, clock)).read_file("README.md", "main") == "# platform\n"
        with pytest.raises(AppAuthenticationError):
            tokens_for(fake, app_key, clock, installation=999).token()
        assert [c.status for c in fake.calls] == [201, 200, 404]


# -- over real sockets: the forge's retry policy -----------------------------------------------------------------


def answer(status: int, body: dict[str, object]) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def minted_at(clock: ManualClock) -> dict[str, object]:
    expires = (clock() + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"token": "ghs_" + "a" * 36, "expires_at": expires}


def test_server_errors_on_the_mint_are_retried_with_the_forge_policy(
    httpserver: HTTPServer, app_key: rsa.RSAPrivateKey, clock: ManualClock
) -> None:
    waits: list[float] = []
    for _ in range(3):
        httpserver.expect_ordered_request(MINT_PATH, method="POST").respond_with_response(
            answer(502, {"message": "Server Error"})
        )
    httpserver.expect_ordered_request(MINT_PATH, method="POST").respond_with_response(answer(201, minted_at(clock)))
    tokens = InstallationTokens(
        APP_ID,
        INSTALLATION,
        app_key,
        base_url=httpserver.url_for("/api/v3"),
        clock=clock,
        retry=RetryPolicy(sleep=waits.append),
    )
    assert tokens.token() == "ghs_" + "a" * 36
    assert tokens.request_count == 4 and waits == [1.0, 2.0]  # as GitHubForge's: at once, then 1 s, 2 s
    (request, *_) = (entry for entry, _ in httpserver.log)
    assert request.headers["Authorization"].startswith("Bearer ")


def test_an_outage_of_the_mint_is_transient_and_tells_no_secret(
    httpserver: HTTPServer, app_key: rsa.RSAPrivateKey, clock: ManualClock
) -> None:
    httpserver.expect_request(MINT_PATH, method="POST").respond_with_response(
        answer(503, {"message": "Service Unavailable"})
    )
    tokens = InstallationTokens(
        APP_ID,
        INSTALLATION,
        app_key,
        base_url=httpserver.url_for("/api/v3"),
        clock=clock,
        retry=RetryPolicy(sleep=no_sleep),
    )
    with pytest.raises(ForgeUnavailableError) as raised:
        tokens.token()
    assert str(raised.value) == (
        f"GitHub POST /app/installations/{INSTALLATION}/access_tokens (installation {INSTALLATION} of GitHub App "
        f"{APP_ID}) failed: 503 Service Unavailable"
    )
    assertions = {entry.headers["Authorization"].removeprefix("Bearer ") for entry, _ in httpserver.log}
    told = "".join(traceback.format_exception(raised.value))
    assert len(assertions) == 1 and not any(a in told for a in assertions)


def test_while_github_cannot_mint_the_current_token_serves_until_its_last_minute(
    httpserver: HTTPServer, app_key: rsa.RSAPrivateKey, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_ordered_request(MINT_PATH, method="POST").respond_with_response(answer(201, minted_at(clock)))
    httpserver.expect_request(MINT_PATH, method="POST").respond_with_response(answer(503, {"message": "Unavailable"}))
    tokens = InstallationTokens(
        APP_ID,
        INSTALLATION,
        app_key,
        base_url=httpserver.url_for("/api/v3"),
        clock=clock,
        retry=RetryPolicy(sleep=no_sleep),
    )
    token = tokens.token()
    clock.advance(dt.timedelta(minutes=58, seconds=59))  # renewal due, GitHub down: a minute and a second left
    assert tokens.token() == token
    assert "the current installation token serves until 2026-11-27 13:00:00 UTC" in caplog.text
    clock.advance(dt.timedelta(seconds=2))
    with pytest.raises(ForgeUnavailableError, match="failed: 503 Unavailable"):
        tokens.token()


# -- the key file and connect.open_forge -------------------------------------------------------------------------


def write_config(root: Path, app: dict[str, object] | None) -> Path:
    document: dict[str, object] = {
        "platform": {"repository": "acme/platform"},
        "apps": {"repository": "acme/gitops-apps"},
        "catalogs": str(CATALOGS),
    }
    if app is not None:
        document["github"] = {"app": app}
    path = root / "envbot.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def app_settings(key_file: str = "keys/app.pem") -> dict[str, object]:
    return {"id": APP_ID, "installationId": INSTALLATION, "privateKeyFile": key_file}


def test_open_forge_writes_as_the_app_when_github_app_is_configured(
    app_fake: FakeGitHub,
    app_key: rsa.RSAPrivateKey,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVBOT_GITOPS_TOKEN", TOKEN)  # set, yet the App is used: the fake refuses this token
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "app.pem").write_bytes(pem_of(app_key))  # relative to the config file's folder
    config = load_config(write_config(tmp_path, app_settings()))
    platform = open_forge(config, config.platform, clock.timebase)
    apps = open_forge(config, config.apps, clock.timebase)
    assert platform.read_file("README.md", "main") == "# platform\n"
    assert apps.branch_sha("main") is None  # the fake serves acme/platform only: authenticated, then not found
    assert mints(app_fake) == 1  # one token source for both repositories
    assert [c.status for c in app_fake.calls] == [201, 200, 404]

    without_app = load_config(write_config(tmp_path, None))  # the fallback: the token from the environment
    with pytest.raises(ForgeRejectedError, match=r"401 Bad credentials \(check the token\)"):
        open_forge(without_app, without_app.platform, clock.timebase).read_file("README.md", "main")


def test_the_source_repository_is_written_as_the_app_too(
    app_fake: FakeGitHub,
    app_key: rsa.RSAPrivateKey,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The agent in the cluster has no GITHUB_TOKEN: it comments on the source repository as the App."""
    monkeypatch.delenv("ENVBOT_SOURCE_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "app.pem").write_bytes(pem_of(app_key))
    config = load_config(write_config(tmp_path, app_settings()))
    source = open_source_forge(config, "acme/platform", clock.timebase)
    assert source.read_file("README.md", "main") == "# platform\n"
    assert mints(app_fake) == 1
    with pytest.raises(UserError, match=r"set ENVBOT_SOURCE_TOKEN or GITHUB_TOKEN, or github\.app"):
        open_source_forge(load_config(write_config(tmp_path, None)), "acme/platform", clock.timebase)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "not found (mount the GitHub App's private key there)"),
        (canary("not-a-key").encode(), "not a PEM private key (mount the .pem file GitHub generated for the App)"),
        ("public", "not a PEM private key (mount the .pem file GitHub generated for the App)"),
        ("encrypted", "the private key is encrypted (mount the .pem file as GitHub generated it)"),
        ("ec", "not an RSA private key (GitHub Apps sign with RSA)"),
    ],
    ids=["missing", "not-pem", "public-key", "encrypted", "not-rsa"],
)
def test_a_key_file_that_is_no_app_key_is_one_clear_line(
    app_key: rsa.RSAPrivateKey,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    content: bytes | str | None,
    problem: str,
) -> None:
    monkeypatch.delenv("ENVBOT_GITOPS_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    data = (
        {
            "public": app_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            "encrypted": pem_of(app_key, b"secret-passphrase"),
            "ec": pem_of(ec.generate_private_key(ec.SECP256R1())),
        }.get(content, content)
        if isinstance(content, str)
        else content
    )
    key_file = tmp_path / "app.pem"
    if data is not None:
        key_file.write_bytes(data)
    config = load_config(write_config(tmp_path, app_settings(str(key_file))))
    with pytest.raises(UserError) as raised:
        build_reconciler(config)  # both repositories need the key: one problem, told once
    assert raised.value.problems == (f"github.app.privateKeyFile {key_file}: {problem}",)
    if data is not None:
        assert data.decode(errors="replace").strip() not in str(raised.value)


# -- no secret anywhere --------------------------------------------------------------------------------------------


def test_the_key_the_jwt_and_the_tokens_are_never_told(
    app_fake: FakeGitHub,
    app_key: rsa.RSAPrivateKey,
    other_key: rsa.RSAPrivateKey,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    debug_everywhere(caplog)
    tokens = tokens_for(app_fake, app_key, clock)
    forge = app_forge(app_fake, tokens)
    told: list[str] = [repr(tokens), repr(forge)]
    forge.push_commit("envbot/dev/infrastructure", "main", [FileChange.write("a.yaml", "a: 1\n")], "envbot: a")
    forge.ensure_pull_request("envbot/dev/infrastructure", "main", "Provision dev", "body")
    clock.advance(dt.timedelta(minutes=56))
    forge.read_file("a.yaml", "envbot/dev/infrastructure")  # renewed
    assert app_fake.app is not None
    for token in app_fake.app.tokens:
        app_fake.app.tokens[token] = clock()  # expired: the next request is refused
    failing = [
        lambda: forge.branch_sha("main"),  # refused: replaced by the next request
        lambda: app_forge(app_fake, tokens_for(app_fake, other_key, clock)).branch_sha("main"),
        lambda: tokens_for(app_fake, app_key, clock, installation=999).token(),
        lambda: tokens_for(app_fake, app_key, ManualClock(clock() + dt.timedelta(hours=1))).token(),
    ]
    for attempt in failing:
        with pytest.raises(Exception) as raised:  # each a different typed error
            attempt()
        told += ["".join(traceback.format_exception(raised.value)), repr(raised.value)]
    forge.branch_sha("main")
    told += [repr(tokens), repr(forge)]

    pem = pem_of(app_key).decode()
    secrets = {"the private key": pem, "a line of the private key": pem.splitlines()[5]}
    secrets |= {f"JWT {i}": assertion for i, assertion in enumerate(app_fake.app.assertions)}
    secrets |= {f"installation token {i}": token for i, token in enumerate(app_fake.app.tokens)}
    assert len(app_fake.app.assertions) == 6 and len(app_fake.app.tokens) == 3
    scan = Scan(secrets)
    assert scan.log_records("logs", caplog.records) > 10
    for index, text in enumerate(told):
        scan.look(f"told {index}", text)
    assert scan.total == 0, scan.report()
