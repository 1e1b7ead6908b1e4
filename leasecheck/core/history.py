"""The operation history of a run, and the checker that judges it.

Conformance concurrency scenarios and every load profile record each lease
operation with its send and receive times; after the run `check_seats` and
`check_idempotency` judge the whole history. The checker only reports what is
certain: a lease counts as held from the moment its grant was *received* until
the earliest of (a) the send time of a checkin or of a refused heartbeat and
(b) its acknowledged `lease_expires_at` minus the clock uncertainty. More than
N such leases at one instant is a violation no interleaving can excuse.

`check_seats` and `check_idempotency` are kept as they were (callers and the
benchmark baseline rely on them). The full model checker — every violation
kind in both directions (over-grants, impossible successes, wrongful refusals),
management ops, clock bounds and minimal witnesses — is
`leasecheck.core.model.check_history`, re-exported here as `check_history`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .redact import lease_ref
from .timeutil import format_rfc3339, parse_rfc3339

if TYPE_CHECKING:  # a history reader (a load report, `leasecheck load --help`) needs no HTTP client
    from .client import Exchange

LEASE_OPS = ("checkout", "heartbeat", "checkin")
_sent, _received, _start = attrgetter("sent_at"), attrgetter("received_at"), itemgetter(0)
#: Management state changes a history may hold (judged by `leasecheck.core.model`).
MANAGEMENT_OPS = ("create_license", "suspend", "reinstate", "revoke")


@dataclass(slots=True)
class Op:
    """One operation as the client saw it. No secrets: leases are refs.

    Runtime kinds are `LEASE_OPS`; management state changes (`MANAGEMENT_OPS`)
    are ops too: `create_license` carries `seats` (max_floating_users) and
    `timeout` (floating timeout, seconds), `suspend`/`reinstate`/`revoke` only
    their license and times. Every field added after the first release has a
    default, so older callers and older history files keep working.

    Slotted: a load run's judge holds a million Ops, builds them from rows,
    shifts their instants and reads them column by column. Without a
    `__dict__` each is half the memory, built faster, and every field read is
    a fixed offset instead of a dict lookup (benchmarks/bench_merge.py).
    """

    kind: str  # checkout | heartbeat | checkin | create_license | suspend | reinstate | revoke
    license: str  # a non-secret license name (id or alias)
    sent_at: float
    received_at: float
    status: int | None  # None: transport failure
    lease: str | None = None  # lease_ref of the token granted / addressed
    expires_at: float | None = None  # acknowledged lease_expires_at (server clock, epoch)
    server_time: float | None = None  # meta.timestamp (server clock, epoch)
    idempotency_key: str | None = None
    body_digest: str | None = None
    error_code: str | None = None
    worker: str | None = None
    device: str | None = None  # checkout: a ref of the binding identity sent (fingerprint or container)
    device_id: str | None = None  # data.device_id of a success
    request_id: str | None = None  # meta.request_id (replays may carry new ones)
    answer_digest: str | None = None  # digest of a success's data member
    seats: int | None = None  # create_license: max_floating_users
    timeout: float | None = None  # create_license: floating timeout in seconds
    #: the request sent a value longer than every server must take (its writer decides what that
    #: is): a 400 or 422 to it whose code names nothing may be the server's own length limit
    oversized: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def offset(self) -> float | None:
        """server - local clock, from this op's own stamp (midpoint estimate)."""
        if self.server_time is None:
            return None
        return self.server_time - (self.sent_at + self.received_at) / 2


def op_from_exchange(ex: Exchange, license: str, *, lease_token: str | None = None, worker: str | None = None) -> Op:
    """Turn a recorded exchange into an Op. `lease_token` names the lease a
    heartbeat/checkin addressed; for checkouts it is read from the answer.
    (The answer is parsed once, by the exchange, and each member read once:
    a load run turns every one of its answers into an Op.)"""
    data = ex.data
    if not isinstance(data, dict):
        data = {}
    body = ex.json
    meta = body.get("meta") if isinstance(body, dict) else None
    ok, checkout = ex.ok, ex.operation == "checkout"
    token = data.get("lease_token") if checkout else lease_token
    expires = None
    raw_expiry = data.get("lease_expires_at")
    if ok and isinstance(raw_expiry, str) and ex.operation != "checkin":
        try:
            expires = parse_rfc3339(raw_expiry)
        except ValueError:
            expires = None
    request_id = meta.get("request_id") if isinstance(meta, dict) else None
    device_id = data.get("device_id")
    return Op(
        kind=ex.operation or "?",
        license=license,
        sent_at=ex.sent_at,
        received_at=ex.received_at,
        status=ex.status,
        lease=lease_ref(token) if isinstance(token, str) else None,
        expires_at=expires,
        server_time=ex.stamp,
        idempotency_key=ex.idempotency_key,
        body_digest=body_digest(ex.request_body or b""),
        error_code=ex.error_code,
        worker=worker,
        device=binding_ref(ex.request_body) if checkout else None,
        device_id=device_id if isinstance(device_id, str) else None,
        request_id=request_id if isinstance(request_id, str) else None,
        answer_digest=_digest(data) if ok and data else None,
    )


@functools.lru_cache(maxsize=4096)
def body_digest(request_body: bytes) -> str:
    """The short digest an Op names its request body by. Cached: a load user sends
    the same checkout body (its binding) and heartbeat body (its lease) again and again."""
    return hashlib.sha256(request_body).hexdigest()[:16]


@functools.lru_cache(maxsize=4096)
def binding_ref(request_body: bytes | None) -> str | None:
    """A short, stable name for the device a checkout binds: its fingerprint, or
    for container requests the container identity fields. Cached: a load user
    sends the same checkout body again and again, and this parses it."""
    try:
        body = json.loads(request_body or b"")
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    if body.get("is_container"):
        ident = [body.get(k) for k in ("cluster_id", "namespace", "pod_name", "container_id")]
        if not any(isinstance(v, str) for v in ident):
            return None
        raw = "container:" + json.dumps(ident)
    elif isinstance(body.get("fingerprint"), str):
        raw = "fp:" + body["fingerprint"]
    else:
        return None
    return "dev#" + hashlib.sha256(raw.encode()).hexdigest()[:10]


#: Built once: `json.dumps` with options builds a new encoder on every call.
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False)


def _digest(data: Any) -> str:
    return hashlib.sha256(_CANONICAL_JSON.encode(data).encode()).hexdigest()[:16]


def management_op(
    kind: str,
    license: str,
    sent_at: float,
    received_at: float,
    status: int | None,
    *,
    seats: int | None = None,
    timeout: float | None = None,
    worker: str | None = None,
) -> Op:
    """A management state change as an Op: `create_license` (with `seats` and the
    policy's `timeout` in seconds), `suspend`, `reinstate` or `revoke`."""
    if kind not in MANAGEMENT_OPS:
        raise ValueError(f"not a management op: {kind!r} (one of {', '.join(MANAGEMENT_OPS)})")
    return Op(
        kind=kind,
        license=license,
        sent_at=sent_at,
        received_at=received_at,
        status=status,
        seats=seats,
        timeout=timeout,
        worker=worker,
    )


#: An Op's fields in declaration order, and a getter of them as one row (a tuple).
OP_FIELDS = tuple(f.name for f in fields(Op))
op_row = attrgetter(*OP_FIELDS)


class History:
    """An append-only list of Ops; can be written as JSON lines and merged."""

    def __init__(self, ops: Iterable[Op] = ()) -> None:
        self.ops: list[Op] = list(ops)

    def add(self, op: Op) -> Op:
        self.ops.append(op)
        return op

    def record(self, ex: Exchange, license: str, *, lease_token: str | None = None, worker: str | None = None) -> Op:
        return self.add(op_from_exchange(ex, license, lease_token=lease_token, worker=worker))

    def __iter__(self) -> Iterator[Op]:
        return iter(self.ops)

    def __len__(self) -> int:
        return len(self.ops)

    def dump(self, path: Path) -> None:
        with path.open("w", encoding="utf-8") as fh:
            for op in self.ops:  # an Op holds scalars only: asdict's answer without its deep copy
                fh.write(json.dumps(dict(zip(OP_FIELDS, op_row(op), strict=True))) + "\n")

    @classmethod
    def load(cls, *paths: Path) -> History:
        """Merge histories written by several processes, ordered by send time."""
        ops: list[Op] = []
        for p in paths:
            with p.open(encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    if line.strip():
                        try:
                            ops.append(Op(**json.loads(line)))
                        except (ValueError, TypeError) as exc:  # a line cut off, or no Op's fields
                            raise ValueError(f"{p.name}, line {n}: not an operation ({exc})") from None
        ops.sort(key=lambda o: (o.sent_at, o.received_at))
        return cls(ops)


@dataclass
class Violation:
    """A violation in the shape load summaries list (`seat_violations`,
    `idempotency_violations`); the model checker's own, with its witness, is
    `leasecheck.core.model.Violation` (`as_history_violation` converts)."""

    kind: str  # "seat" | "idempotency" | a model violation kind
    license: str
    message: str
    instant: float | None = None
    capacity: int | None = None
    leases: list[dict[str, Any]] = field(default_factory=list)
    witness: str | None = None  # the model checker's text timeline

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        if self.instant is not None:
            d["instant_rfc3339"] = format_rfc3339(self.instant)
        return d


def _certain_intervals(ops: list[Op], tolerance: float) -> list[tuple[float, float, Op]]:
    """Intervals (local clock) during which one lease was certainly held.
    (One pass, no per-op property or lambda: load reports run this over every op of a run.)"""
    acks, terminators = [], []
    for o in ops:
        kind, status = o.kind, o.status
        if kind == "checkin" or (kind == "heartbeat" and status is not None and 400 <= status < 500):
            terminators.append(o)
        elif kind in ("checkout", "heartbeat") and status is not None and 200 <= status < 300:
            acks.append(o)
    acks.sort(key=_received)
    terminators.sort(key=_sent)
    out = []
    for a in acks:
        sent, received, expires = a.sent_at, a.received_at, a.expires_at
        end = math.inf
        if expires is not None:
            stamp = a.server_time
            off = stamp - (sent + received) / 2 if stamp is not None else 0.0  # Op.offset
            end = expires - off - (received - sent) / 2 - tolerance
        for t in terminators:
            # Any terminator that may have been processed after this ack ends the
            # certainty at its send time, including one sent before the ack but
            # still in flight when the ack was sent (a checkin racing a heartbeat).
            if t.received_at > sent:
                end = min(end, t.sent_at)
                break
        if end > received:
            out.append((received, end, a))
    return out


def check_seats(
    history: Iterable[Op], capacity: dict[str, int], *, tolerance: float = 0.05, max_reports: int = 3
) -> list[Violation]:
    """Never more than capacity[license] leases certainly held at one instant."""
    by_license: dict[str, dict[str, list[Op]]] = {}
    for op in history:
        if op.kind in LEASE_OPS and op.lease is not None and op.license in capacity:
            by_license.setdefault(op.license, {}).setdefault(op.lease, []).append(op)
    violations: list[Violation] = []
    for lic, leases in by_license.items():
        cap = capacity[lic]
        events: list[tuple[float, int, str, tuple[float, float, Op]]] = []
        for lease, ops in leases.items():
            for iv in _merge(_certain_intervals(ops, tolerance)):
                events.append((iv[0], 1, lease, iv))
                events.append((iv[1], 0, lease, iv))  # ends sort before starts at a tie
        events.sort(key=lambda e: (e[0], e[1]))
        held: dict[str, tuple[float, float, Op]] = {}
        reported = 0
        in_violation = False
        for t, is_start, lease, iv in events:
            if is_start:
                held[lease] = iv
            else:
                held.pop(lease, None)
            over = len(held) > cap
            if over and not in_violation and reported < max_reports:
                reported += 1
                violations.append(
                    Violation(
                        kind="seat",
                        license=lic,
                        capacity=cap,
                        instant=t,
                        message=f"{len(held)} leases certainly held at once on a {cap}-seat license",
                        leases=[
                            {
                                "lease": name,
                                "granted_by": v[2].kind,
                                "acknowledged_at": format_rfc3339(v[0]),
                                "certainly_held_until": format_rfc3339(v[1]) if v[1] != float("inf") else None,
                                "idempotency_key": v[2].idempotency_key,
                            }
                            for name, v in sorted(held.items(), key=lambda kv: kv[1][0])
                        ],
                    )
                )
            in_violation = over
    return violations


def _merge(intervals: list[tuple[float, float, Op]]) -> list[tuple[float, float, Op]]:
    merged: list[tuple[float, float, Op]] = []
    for iv in sorted(intervals, key=_start):
        if merged and iv[0] <= merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], iv[1]), last[2])
        else:
            merged.append(iv)
    return merged


def check_idempotency(history: Iterable[Op]) -> list[Violation]:
    """One (license, endpoint, key) has one effect: every success names one lease,
    and no success answers a body other than the first successful one."""
    groups: dict[tuple[str, str, str], list[Op]] = {}
    for op in history:
        if op.kind in ("checkout", "checkin") and op.idempotency_key and op.ok:
            groups.setdefault((op.license, op.kind, op.idempotency_key), []).append(op)
    out = []
    for (lic, kind, key), ops in groups.items():
        leases = {o.lease for o in ops if o.lease}
        bodies = {o.body_digest for o in ops}
        if len(leases) > 1:
            message, extra = f"one {kind} Idempotency-Key produced {len(leases)} different leases", False
        elif len(bodies) > 1:
            message, extra = f"one {kind} Idempotency-Key succeeded with {len(bodies)} different bodies", True
        else:
            continue
        rows = []
        for o in ops:
            row: dict[str, Any] = {"lease": o.lease, "idempotency_key": key}
            if extra:
                row["body"] = o.body_digest
            row["acknowledged_at"] = format_rfc3339(o.received_at)
            rows.append(row)
        out.append(Violation(kind="idempotency", license=lic, message=message, leases=rows))
    return out


def check_history(history: Iterable[Op], model: Any = None, **kwargs: Any) -> Any:
    """Judge the whole history against the contract model: every violation kind,
    both directions, with witnesses. See `leasecheck.core.model.check_history`
    (this is the same function, importable from where the recording lives)."""
    from leasecheck.core.model import check_history as _check

    return _check(history, model, **kwargs)
