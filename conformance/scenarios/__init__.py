"""Conformance scenarios, one module per requirement area."""
