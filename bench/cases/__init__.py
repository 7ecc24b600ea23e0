"""The benchmark modules, one per concern; each runs as python -m."""
