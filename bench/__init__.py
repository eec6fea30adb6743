"""Benchmarks of issue 4 (``make bench``): not tests, nothing here asserts a timing."""
