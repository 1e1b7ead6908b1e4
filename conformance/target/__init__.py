"""The server under test: one `Target` per run, in parts with one idea each.

- target.py: the facade scenarios use (`target.client(f)`, `target.license(...)`);
- transport.py: connections, their gate (run ending, silence, rate cap), back-off, server clock;
- provisioning.py: licenses for scenarios, through management or from an inventory;
- inventory.py: the inventory file of pre-made licenses;
- leases.py: what the run holds (memory and run ledger), and giving it back at the end;
- races.py: the concurrency the run used, for the report;
- attribution.py: which scenario an answer belongs to when scenarios run side by side.
"""

from .attribution import working, working_for
from .provisioning import LicenseFixture, NotRunnable
from .target import Target
from .transport import SILENCE_LIMIT, RunEnding, TargetStoppedAnswering

__all__ = [
    "SILENCE_LIMIT",
    "LicenseFixture",
    "NotRunnable",
    "RunEnding",
    "Target",
    "TargetStoppedAnswering",
    "working",
    "working_for",
]
