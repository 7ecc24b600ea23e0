"""Benchmarks of interpreters against the other ways to run work elsewhere."""
