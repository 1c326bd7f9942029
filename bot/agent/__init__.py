"""``envbot agent``, the in-cluster half: watch the cluster, resync GitHub, reconcile at once; wiring over the core."""
