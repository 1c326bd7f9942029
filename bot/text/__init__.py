"""The base of all text envbot writes (replies, reports): untrusted text made data, envbot's own templates."""
