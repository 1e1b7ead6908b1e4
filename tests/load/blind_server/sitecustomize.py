"""Loaded into the reference server's processes by tests/load/test_race.py
(through PYTHONPATH): the seat check no longer sees any live lease, so every
checkout is granted. A stand-in for the fault gallery's racy server, to prove
the load judge catches over-allocation; never used outside that test.
"""
from leasecheck.reference_server.store import Tx

Tx.count_live_leases = lambda self, license_id, now: 0  # type: ignore[method-assign]
