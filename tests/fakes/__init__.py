"""Fakes of external services for tests (GitHub REST API)."""
