"""Fault injection: GitHub outages, rate limits and races, Kubernetes API faults, crashes and concurrent runs."""
