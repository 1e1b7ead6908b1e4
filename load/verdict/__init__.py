"""The verdict: invariants, validity and thresholds of one run, and its exit code."""
