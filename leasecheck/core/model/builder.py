"""Hand-written histories, readably: for tests, examples and bug reports.

Times are seconds on the client's clock from an arbitrary zero; the server's
clock runs `offset` seconds ahead (server - client). `expires=` is the
instant the lease expires *as the client's clock would show it*, so a
history reads the same whatever the offset; the builder stamps the server
clock (`meta.timestamp` at the window's midpoint, unless `stamp=` says where)
and `lease_expires_at` on it. Each method appends one op and returns its
index, which is what witnesses name.

    b = HistoryBuilder(offset=0.4)
    b.create(seats=1, at=-1)
    a = b.checkout("a", 0.0, 0.1, expires=10)
    b.heartbeat("a", 5.0, 5.1, expires=15)
    r = b.refuse_checkout(6.0, 6.1)            # 409 FLOATING_LIMIT_EXCEEDED
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from leasecheck.core import history as h
from leasecheck.core.history import History, Op

from .check import check_history
from .options import Model
from .witness import Violation

T0 = 1_700_000_000.0
#: The default error code of a refused heartbeat or checkin; pass code=None for none.
AUTO = "LEASE_NOT_FOUND"
#: What a hand-written history should be judged: None (honest), or its one
#: violation's kind and the ops its witness names, by role (`Violation.roles`).
Expected = tuple[str, dict[str, list[int]]] | None


class HistoryBuilder:
    def __init__(self, license: str = "L", *, offset: float = 0.0, worker: str | None = None) -> None:
        self.license = license
        self.offset = offset
        self.worker = worker
        self.ops: list[Op] = []
        self._n = 0

    @property
    def history(self) -> History:
        return History(self.ops)

    def sole_violation(self, kind: str, model: Model | None = None) -> Violation:
        """Judge the history, which must hold exactly one violation, of `kind`
        (for tests and bug reports: the AssertionError shows the verdict)."""
        v = check_history(self.history, model)
        if v.counts != {kind: 1}:
            raise AssertionError(f"expected one {kind}, got {dict(v.counts)}:\n{v.render()}")
        return v.violations[0]

    def then(self, steps: Callable[[HistoryBuilder], object]) -> HistoryBuilder:
        """This history with `steps` appended: a table's row applied to its setup."""
        steps(self)
        return self

    def assert_verdict(self, expected: Expected, model: Model | None = None) -> None:
        """Judge the history as a table of cases states it (see `Expected`), so each
        row says both what is wrong and which ops prove it."""
        if expected is None:
            v = check_history(self.history, model)
            if not v.ok:
                raise AssertionError(f"expected an honest history, got {dict(v.counts)}:\n{v.render()}")
            return
        kind, roles = expected
        got = self.sole_violation(kind, model).roles()
        if got != roles:
            raise AssertionError(f"{kind}: expected the witness {roles}, got {got}")

    def _fresh(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def add(
        self,
        kind: str,
        sent: float,
        received: float | None,
        status: int | None,
        *,
        lease: str | None = None,
        expires: float | None = None,
        key: str | None = None,
        body: str | None = None,
        code: str | None = None,
        device: str | None = None,
        device_id: str | None = None,
        license: str | None = None,
        worker: str | None = None,
        stamp: float | None = None,
        request_id: str | None = None,
        seats: int | None = None,
        timeout: float | None = None,
        answer: str | None = None,
        oversized: bool = False,
    ) -> int:
        """Any op. `received=None` with `status=None`: no answer (given up at sent + 2 s)."""
        recv = sent + 2.0 if received is None else received
        answered = status is not None
        if stamp is None and answered:
            stamp = (sent + recv) / 2
        self.ops.append(
            Op(
                kind=kind,
                license=license or self.license,
                sent_at=T0 + sent,
                received_at=T0 + recv,
                status=status,
                lease=lease,
                expires_at=None if expires is None else T0 + expires + self.offset,
                server_time=None if stamp is None else T0 + stamp + self.offset,
                idempotency_key=key,
                body_digest=body,
                error_code=code,
                worker=worker or self.worker,
                device=device,
                device_id=device_id,
                request_id=request_id or self._fresh("req-"),
                answer_digest=answer,
                seats=seats,
                timeout=timeout,
                oversized=oversized,
            )
        )
        return len(self.ops) - 1

    # ------------------------------------------------------------ management
    def create(self, seats: int, *, at: float = -1.0, timeout: float | None = None, license: str | None = None) -> int:
        return self.add("create_license", at, at + 0.01, 201, seats=seats, timeout=timeout, license=license)

    def status(self, action: str, sent: float, received: float | None, status: int | None = 200, **kw: Any) -> int:
        assert action in h.MANAGEMENT_OPS
        return self.add(action, sent, received, status, **kw)

    # ---------------------------------------------------------------- runtime
    def checkout(
        self,
        lease: str,
        sent: float,
        received: float,
        *,
        expires: float | None = None,
        key: str | None = None,
        device: str | None = None,
        body: str | None = None,
        **kw: Any,
    ) -> int:
        """A granted checkout; `expires` defaults to 30 s after the answer."""
        device = device or f"dev-{lease}"
        return self._keyed(
            "checkout",
            sent,
            received,
            200,
            key,
            body or f"bind:{device}",
            lease=lease,
            expires=received + 30.0 if expires is None else expires,
            device=device,
            device_id=f"id-{device}",
            **kw,
        )

    def _keyed(
        self, kind: str, sent: float, received: float | None, status: int | None, key: str | None, body: str, **kw: Any
    ) -> int:
        """An op with an Idempotency-Key (a fresh one unless given) and a body."""
        return self.add(kind, sent, received, status, key=key or self._fresh("auto-key-"), body=body, **kw)

    def replay(self, of: int, sent: float, received: float, *, status: int = 200, **kw: Any) -> int:
        """The same request as op `of` (same key and body) again, with its answer."""
        o = self.ops[of]
        fields: dict[str, Any] = {
            "key": o.idempotency_key,
            "body": o.body_digest,
            "device": o.device,
        }
        if 200 <= status < 300:
            fields.update(
                lease=o.lease,
                expires=None if o.expires_at is None else o.expires_at - T0 - self.offset,
                device_id=o.device_id,
                answer=o.answer_digest,
            )
        fields.update(kw)
        return self.add(o.kind, sent, received, status, **fields)

    def refuse_checkout(
        self,
        sent: float,
        received: float,
        *,
        status: int = 409,
        code: str | None = "FLOATING_LIMIT_EXCEEDED",
        device: str | None = None,
        key: str | None = None,
        **kw: Any,
    ) -> int:
        device = device or self._fresh("dev-refused-")
        return self._keyed("checkout", sent, received, status, key, f"bind:{device}", code=code, device=device, **kw)

    def heartbeat(
        self,
        lease: str,
        sent: float,
        received: float | None,
        *,
        expires: float | None = None,
        status: int | None = 200,
        code: str | None = AUTO,
        **kw: Any,
    ) -> int:
        """A heartbeat; a success's `expires` defaults to 30 s after the answer,
        a refusal's code to LEASE_NOT_FOUND."""
        ok = status is not None and 200 <= status < 300
        if ok and expires is None and received is not None:
            expires = received + 30.0
        if ok or status is None:
            code = None
        return self.add(
            "heartbeat", sent, received, status, lease=lease, expires=expires if ok else None, code=code, **kw
        )

    def checkin(
        self,
        lease: str,
        sent: float,
        received: float | None,
        *,
        status: int | None = 200,
        code: str | None = AUTO,
        key: str | None = None,
        **kw: Any,
    ) -> int:
        """A checkin; a refusal's code defaults to LEASE_NOT_FOUND."""
        if status is None or 200 <= status < 300:
            code = None
        return self._keyed("checkin", sent, received, status, key, f"ci:{lease}", lease=lease, code=code, **kw)
