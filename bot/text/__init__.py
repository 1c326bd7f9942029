"""The base of every text envbot writes: untrusted text made data (``untrusted``), its own templates (``templates``)."""
