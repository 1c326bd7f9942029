"""Tests of bot.cluster (a package, so its conftest does not shadow tests/conftest.py as ``conftest``)."""
