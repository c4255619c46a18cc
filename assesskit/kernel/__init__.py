"""The kernel layer: the rule registry and the normalisation/aggregation kernels."""
