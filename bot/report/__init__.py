"""Report, the last step: status rows, the sticky comment and status, job summaries, pull request wording."""
