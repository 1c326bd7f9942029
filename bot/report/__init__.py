"""Reporting: pull request text, status tables, comments and summaries, from template files."""
