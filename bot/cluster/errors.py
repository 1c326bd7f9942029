"""Typed cluster faults: the caller tells retryable from permanent by class, never by text."""

from __future__ import annotations

from bot.errors import PermanentError, TransientError, UserError


class ClusterUnavailableError(TransientError):
    """The Kubernetes API failed in a way that may pass (5xx, 429, timeouts, refused connections)."""


class ClusterForbiddenError(PermanentError):
    """The API refused envbot's credentials (401) or permissions (403); the message names the grant."""


class ClusterRequestError(PermanentError):
    """The API rejected a request as invalid (400, 422, ...); retrying the same request will not help."""


class KindNotServedError(PermanentError):
    """The API server does not serve a resource type at all (its CRD is not installed)."""


class ClusterConfigError(UserError):
    """The kubeconfig, context, in-cluster environment or static YAML files are unusable."""
