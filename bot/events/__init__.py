"""Event → intent, the first step: payloads, comment commands, routing, authorization, the orphan sweep; pure."""
