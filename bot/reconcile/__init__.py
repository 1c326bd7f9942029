"""The reconciler: observe the forges and the cluster, decide (pure), act through the forges, report."""
