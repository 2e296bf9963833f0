"""The benchmark harness: suite, timing, environment fingerprint, results, compare, reports."""
