"""The shared core: HTTP client, envelopes, signatures, operation history."""
