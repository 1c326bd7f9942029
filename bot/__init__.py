"""envbot: provisions complete environments from catalogs through GitOps pull requests."""

__version__ = "0.1.0"
