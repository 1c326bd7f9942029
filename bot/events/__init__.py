"""Webhook events → intents: payload parsing, comment commands, environment names, authorization (all pure)."""
