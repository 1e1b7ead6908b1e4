"""An executable model of the floating-lease contract, and a checker that judges any history against it.

How a caller records and judges (the recording format is `leasecheck.core.history`):

    from leasecheck.core.history import History, management_op
    from leasecheck.core.model import Accepted, Model, check_history

    history = History()
    history.add(management_op("create_license", "L1", sent, received, 201, seats=5, timeout=60.0))
    history.record(ex, "L1", worker="w0")                       # a checkout Exchange
    history.record(ex, "L1", lease_token=token, worker="w0")    # heartbeat/checkin: the token addressed
    history.add(management_op("suspend", "L1", sent, received, 200))  # also reinstate, revoke
    verdict = check_history(history)                            # capacity={"L1": 5} if no create op
    if not verdict.ok:
        print(verdict.render())                                 # text timelines; verdict.to_json() for reports

Record every request, including refusals, replays and transport failures
(status None), and every management change of the licenses judged; Ops can
also be built directly (`leasecheck.core.history.Op`, `management_op`, or
`builder.HistoryBuilder` for hand-made histories). The defaults accept every
honest variant the facts leave open (`options.py`); narrow `Accepted` only
for a target whose choices you know.

Modules, one idea each:

- `options`    the honest variants as switches, and how to read a history
- `clock`      client/server clock offset and bound; the judge's timeline
- `refusals`   what a refusal claims, from its status and error code
- `index`      one pass: ops per license, lease and key, with effect windows
- `status`     a license's status over time, where certain
- `leases`     per lease: certainly held, possibly held, certainly live
- `context`    one license as its rules see it; the violation sink
- `seats`      sweep lines: over-grants and wrongful over-capacity refusals
- `refused`    live leases and active licenses refused
- `impossible` successes no honest server gives
- `idempotency` one key, one effect, one answer
- `devices`    one lease, one device, one license
- `witness`    a violation's minimal witness, as text timeline and JSON
- `check`      `check_history` and its `Verdict`
- `partition`  licenses a shared token joins, dealt into parts judged apart
- `parallel`   a big history's parts judged in forked processes
- `spec`       the contract as an executable sequential model (an honest server)
- `simulate`   legal (or, with faults, buggy) histories from that model
- `builder`    hand-written histories
"""

from __future__ import annotations

from .builder import HistoryBuilder
from .check import Verdict, check_history
from .clock import Clock, Timeline
from .options import Accepted, Model, RefusalWords
from .witness import KINDS, REFUSAL, UNSAFE, Violation, WitnessOp, as_history_violation

__all__ = [
    "KINDS",
    "REFUSAL",
    "UNSAFE",
    "Accepted",
    "Clock",
    "HistoryBuilder",
    "Model",
    "RefusalWords",
    "Timeline",
    "Verdict",
    "Violation",
    "WitnessOp",
    "as_history_violation",
    "check_history",
]
