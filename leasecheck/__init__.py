"""leasecheck: conformance and load testing for floating-license lease APIs."""

__version__ = "0.1.0"
