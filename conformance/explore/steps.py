"""The program language of exploration: steps, and rounds of steps sent together.

A program is a tuple of rounds; a round of several steps is sent as
simultaneously as one barrier allows, a round of one is sequential. Steps
name what they touch by index (license `lic`, device `device`) and by the
`sid` of earlier steps (the checkout whose lease they address, the request
whose Idempotency-Key they reuse), never by a token or key of one run: the
same program replays against fresh licenses, which is what shrinking needs.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Runtime operations of the contract.
RUNTIME = ("checkout", "heartbeat", "checkin")
#: Management state changes of the contract.
MANAGEMENT = ("suspend", "reinstate", "revoke")
#: How a request chooses its Idempotency-Key.
#: fresh: a new key; replay: the key and body of `key_of`; other-body: the key of
#: `key_of` with this step's own body; other-license: the key and body of `key_of`,
#: a request of another license; other-endpoint: the key of `key_of`, a request to
#: the other endpoint; long: a new key of the largest length the spec allows.
KEY_MODES = ("fresh", "replay", "other-body", "other-license", "other-endpoint", "long")
#: Where a wait ends, relative to the addressed lease's acknowledged window: just before its
#: lease_expires_at, or just after (both derived from the model's bounds: `Run.boundary`).
WAITS = ("before", "after")


@dataclass(frozen=True)
class Step:
    sid: int
    op: str  # one of RUNTIME, MANAGEMENT, or "wait"
    lic: int  # the license the request is sent under (a wait: the lease's license)
    lease: int | None = None  # heartbeat, checkin, wait: sid of the checkout whose lease it addresses
    device: int | None = None  # checkout: which device checks out
    key: str = "fresh"  # one of KEY_MODES (checkout, checkin)
    key_of: int | None = None  # sid of the request whose key is reused
    at: str | None = None  # wait: one of WAITS

    def render(self) -> str:
        """One line a reader can replay by hand."""
        head = f"#{self.sid} L{self.lic} {self.op}"
        if self.op == "checkout" and self.key in ("replay", "other-license") and self.key_of is not None:
            head += f" with the body of #{self.key_of}"
        elif self.op == "checkout":
            head += f" device D{self.device}"
        elif self.op in ("heartbeat", "checkin"):
            head += f" lease of #{self.lease}"
        elif self.op == "wait":
            head = f"#{self.sid} wait until {'just before' if self.at == 'before' else 'just after'} lease_expires_at of #{self.lease}"
        if self.op in ("checkout", "checkin") and self.key != "fresh":
            head += f", key {self.key}" + (f" of #{self.key_of}" if self.key_of is not None else "")
        return head


Round = tuple[Step, ...]
Program = tuple[Round, ...]


def render(program: Program) -> str:
    """The program as numbered lines; steps sent together are bracketed."""
    lines = []
    for rnd in program:
        if len(rnd) == 1:
            lines.append(rnd[0].render())
        else:
            lines.append("together: " + " | ".join(s.render() for s in rnd))
    return "\n".join(lines)


def step_count(program: Program) -> int:
    return sum(len(r) for r in program)
