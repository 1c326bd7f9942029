"""Observe → decide → act: the runner, the pure decision, verdicts and merge gate, carrying decisions out."""
