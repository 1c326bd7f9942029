"""GitHub App installation tokens: a JWT signed with the App's private key, exchanged for a token renewed in time."""

from __future__ import annotations

import collections
import datetime as dt
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from requests.adapters import HTTPAdapter

from bot.clock import Clock, parse_timestamp, readable_time, utc_now
from bot.errors import EnvbotError, UserError
from bot.forge.errors import ForgeRejectedError, ForgeUnavailableError
from bot.forge.github import DEFAULT_BASE_URL, _message, _transport_problem
from bot.forge.retry import BoundedRetry, RetryBudgetExceededError, RetryPolicy

log = logging.getLogger(__name__)

RENEW_BEFORE = dt.timedelta(minutes=5)
"""An installation token with less than this left is replaced before it is handed out again."""
LAST_USE_BEFORE = dt.timedelta(minutes=1)
"""While GitHub cannot mint a new token, the current one is still handed out until this much of it is left."""
JWT_BACKDATE = dt.timedelta(seconds=60)
"""The JWT's ``iat`` lies this far in the past, for clocks that run ahead of GitHub's."""
JWT_LIFE = dt.timedelta(minutes=9)
"""The JWT's ``exp`` from now: with the backdated ``iat`` it spans 10 minutes, the most GitHub accepts."""
_REMEMBERED = 8
"""How many tokens handed out are kept for redaction (older ones expired long ago)."""


class AppAuthenticationError(ForgeRejectedError):
    """GitHub refused the App itself (its id, its installation or its key): the configuration must change."""


@dataclass(frozen=True)
class _Minted:
    value: str = field(repr=False)
    expires_at: dt.datetime
    after_refusal: bool
    """Minted because GitHub refused the token before it: one refused too is not replaced on a refusal again."""


def load_private_key(pem: bytes, where: str) -> rsa.RSAPrivateKey:
    """The App's RSA private key from the PEM file GitHub generated; a ``UserError`` naming ``where`` (never a byte of
    the file) for anything else."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except TypeError:
        raise UserError(f"{where}: the private key is encrypted (mount the .pem file as GitHub generated it)") from None
    except (ValueError, UnsupportedAlgorithm):
        raise UserError(f"{where}: not a PEM private key (mount the .pem file GitHub generated for the App)") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise UserError(f"{where}: not an RSA private key (GitHub Apps sign with RSA)")
    return key


class InstallationTokens:
    """The installation tokens of one GitHub App installation, for every forge that writes as the App.

    ``token()`` hands out the current token and mints a new one (``POST /app/installations/{id}/access_tokens``
    with a JWT signed by the App's key) when none is held or less than ``RENEW_BEFORE`` of it is left, so a forge
    that lives longer than a token's hour keeps working (while GitHub cannot mint one, the current token serves
    until ``LAST_USE_BEFORE`` of it is left). Time is ``clock``'s. The request goes through the same
    bounded retries as ``GitHubForge`` (``RetryPolicy``: 5xx, 429 and rate limits), on a plain ``requests`` session
    rather than PyGithub's requester, whose DEBUG log shows each answer's body (here: the token).

    The key, the JWT and the tokens are never logged, in an error message or in a repr; GitHub's refusals of the App
    are ``AppAuthenticationError`` naming the setting to fix, its outages ``ForgeUnavailableError``.
    """

    def __init__(
        self,
        app_id: int,
        installation_id: int,
        private_key: rsa.RSAPrivateKey,
        *,
        base_url: str = DEFAULT_BASE_URL,
        clock: Clock = utc_now,
        retry: RetryPolicy | None = None,
        timeout: int = 15,
        user_agent: str = "envbot",
    ) -> None:
        self.app_id = app_id
        self.installation_id = installation_id
        self.base_url = base_url.rstrip("/")
        self._key = private_key
        self._clock = clock
        self._timeout = timeout
        self._user_agent = user_agent
        self._lock = threading.Lock()
        self._current: _Minted | None = None
        self._refused = False
        self._handed_out: collections.deque[str] = collections.deque(maxlen=_REMEMBERED)
        self._requests = 0
        self._session = requests.Session()
        self._session.auth = _no_netrc  # the Authorization header is ours: never one from ~/.netrc
        adapter = HTTPAdapter(max_retries=BoundedRetry(policy=retry or RetryPolicy(), on_retry=self._count))
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    def __repr__(self) -> str:
        return (
            f"InstallationTokens(app_id={self.app_id}, installation_id={self.installation_id}, "
            f"base_url={self.base_url!r})"
        )

    @property
    def request_count(self) -> int:
        """Token requests sent so far, retries included."""
        return self._requests

    @property
    def what(self) -> str:
        """The installation, as messages name it."""
        return f"installation {self.installation_id} of GitHub App {self.app_id}"

    def token(self) -> str:
        """A token with at least ``RENEW_BEFORE`` left, minted now when the one held has less."""
        with self._lock:
            now = self._clock()
            held = self._current
            if held is not None and held.expires_at - now >= RENEW_BEFORE:
                return held.value
            try:
                minted = self._mint(now, after_refusal=self._refused)
            except ForgeUnavailableError as exc:
                if held is None or held.expires_at - now < LAST_USE_BEFORE:
                    raise
                log.warning(
                    "envbot: %s; the current installation token serves until %s", exc, readable_time(held.expires_at)
                )
                return held.value
            self._current, self._refused = minted, False
            self._handed_out.append(minted.value)
            return minted.value

    def refused(self, token: str) -> bool:
        """GitHub answered 401 to ``token``: drop it so that the next ``token()`` mints another; False (and kept)
        when it was itself minted after a refusal, for then a new one would be refused too."""
        with self._lock:
            current = self._current
            if current is None or current.value != token:
                return True  # replaced already: the next request carries the new one
            if current.after_refusal:
                return False
            self._current, self._refused = None, True
            return True

    def redact(self, text: str) -> str:
        """``text`` with every token handed out replaced by ``***``."""
        for value in self._handed_out:
            text = text.replace(value, "***")
        return text

    def _count(self) -> None:
        self._requests += 1

    def _mint(self, now: dt.datetime, *, after_refusal: bool) -> _Minted:
        claims = {
            "iat": int((now - JWT_BACKDATE).timestamp()),
            "exp": int((now + JWT_LIFE).timestamp()),
            "iss": str(self.app_id),
        }
        assertion = jwt.encode(claims, self._key, algorithm="RS256")
        request = f"GitHub POST /app/installations/{self.installation_id}/access_tokens"
        headers = {
            "Authorization": f"Bearer {assertion}",
            "Accept": "application/vnd.github+json",
            "User-Agent": self._user_agent,
        }
        self._count()
        failure: EnvbotError
        try:
            answer = self._session.post(
                f"{self.base_url}/app/installations/{self.installation_id}/access_tokens",
                headers=headers,
                timeout=self._timeout,
            )
        except RetryBudgetExceededError as exc:  # raised while waiting to retry
            failure = RetryBudgetExceededError(f"{request} ({self.what}): {str(exc).removeprefix('GitHub ')}")
        except requests.RequestException as exc:
            failure = ForgeUnavailableError(f"{request} ({self.what}) failed: {_transport_problem(exc)}")
        else:
            return self._minted(answer, request, assertion, after_refusal)
        # Raised outside the handler so that the transport's exception (URLs, urllib3 internals) is not chained.
        raise failure

    def _minted(self, answer: requests.Response, request: str, assertion: str, after_refusal: bool) -> _Minted:
        """The token in GitHub's answer, or the error it is."""
        data = _json(answer)
        status = answer.status_code
        if status in (200, 201):
            value, expires = data.get("token"), data.get("expires_at")
            try:
                expires_at = parse_timestamp(expires) if isinstance(expires, str) else None
            except ValueError:
                expires_at = None
            if not isinstance(value, str) or not value or expires_at is None:
                raise ForgeRejectedError(f"{request} ({self.what}): GitHub's answer holds no token and expiry time")
            return _Minted(value, expires_at, after_refusal)
        said = " ".join(self.redact(_message(data_of=data)).replace(assertion, "***").split())
        reply = f"{status} {said}".strip()
        limited = "rate limit" in said.lower() or answer.headers.get("X-RateLimit-Remaining") == "0"
        if status >= 500 or status == 429 or (status == 403 and limited):
            failure: EnvbotError = ForgeUnavailableError(f"{request} ({self.what}) failed: {reply}")
        elif status == 401:
            failure = AppAuthenticationError(
                f"GitHub refused the JWT of GitHub App {self.app_id} for installation {self.installation_id} "
                f"({reply}): check github.app.id and that github.app.privateKeyFile holds that App's private key "
                "(and that this machine's clock is right)"
            )
        elif status == 404:
            failure = AppAuthenticationError(
                f"GitHub App {self.app_id} has no installation {self.installation_id} ({reply}): check "
                "github.app.installationId and that the App is installed on the GitOps repositories' owner"
            )
        elif status == 403:
            failure = AppAuthenticationError(
                f"GitHub refused a token for {self.what} ({reply}): check that neither the App nor its "
                "installation is suspended"
            )
        else:
            failure = ForgeRejectedError(f"{request} ({self.what}) failed: {reply}")
        raise failure


def _no_netrc(request: Any) -> Any:
    return request


def _json(answer: requests.Response) -> dict[str, Any]:
    """GitHub's JSON answer as a mapping ({} for anything else: an HTML error page, nothing)."""
    try:
        data = answer.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
