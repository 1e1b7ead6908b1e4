"""The conformance suite: pytest scenarios, one file per spec area."""
