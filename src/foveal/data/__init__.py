"""Data: sources (folders, manifests, built-ins), decoding, tasks, splits, audit."""
