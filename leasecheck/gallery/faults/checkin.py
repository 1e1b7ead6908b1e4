"""Checkin faults: a seat not freed, freed twice, or the wrong refusal (CHK-*)."""

from __future__ import annotations

from typing import Any

from leasecheck.reference_server.errors import LEASE_NOT_FOUND, ApiError
from leasecheck.reference_server.idempotency import Answer
from leasecheck.reference_server.leases import Runtime
from leasecheck.reference_server.store import Lease, Tx

from . import bug


@bug("checkin-does-not-free", "LIFE-03", "CHK-01")
class CheckinKeepsSeat(Runtime):
    """Checkin answers 200 but never ends the lease, so its seat stays held until it expires."""

    def end_lease(self, tx: Tx, lease: Lease, now: float) -> Lease:
        return lease  # BUG: no tx.end_lease(...): the seat stays held until the lease expires


@bug("checkin-decrements-twice", "CHK-02", "EXP-05")
class SeatCounter(Runtime):
    """Seats in use are a counter that every checkin decrements, even of a lease already checked in or expired.

    Simulated as live leases minus the extra decrements, kept in a table of the
    fault's own (the server's tables stay as they are).
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        with self.store.write() as tx:
            tx.conn.execute(
                "CREATE TABLE IF NOT EXISTS fault_seat_counter"
                " (license_id TEXT PRIMARY KEY, extra_frees INTEGER NOT NULL)"
            )

    def seats_in_use(self, tx: Tx, license_id: str, now: float) -> int:
        row = tx.conn.execute(
            "SELECT extra_frees FROM fault_seat_counter WHERE license_id = ?", (license_id,)
        ).fetchone()
        return super().seats_in_use(tx, license_id, now) - (row[0] if row else 0)

    def release_lease(self, tx: Tx, license_id: str, token: str, now: float) -> dict[str, Any]:
        self.reclaim_expired(tx, license_id, now)
        lease = self.find_lease(tx, license_id, token)
        if lease is None or self.is_live(lease, now):
            return super().release_lease(tx, license_id, token, now)
        # BUG: the lease no longer holds a seat, but the counter goes down again
        tx.conn.execute(
            "INSERT INTO fault_seat_counter (license_id, extra_frees) VALUES (?, 1)"
            " ON CONFLICT (license_id) DO UPDATE SET extra_frees = extra_frees + 1",
            (license_id,),
        )
        lic = self.find_license(tx, license_id)
        return self.lease_data(lic, self.policy_of(tx, lic), lease, now, with_token=False)


@bug("lease-not-found-400", "CHK-03", "LIFE-03")
class UnknownLeaseIs400(Runtime):
    """An unknown or ended lease is answered 400 (as LicenseSpring's device_not_found), which tells the client its
    request was malformed.
    """

    @staticmethod
    def _as_400(exc: ApiError) -> ApiError:
        if exc.code == LEASE_NOT_FOUND:
            return ApiError(400, "DEVICE_NOT_FOUND", exc.message)  # BUG: a wrong status for the error
        return exc

    def heartbeat(self, license_id: str, token: str) -> Answer:
        try:
            return super().heartbeat(license_id, token)
        except ApiError as exc:
            raise self._as_400(exc) from None

    def checkin(self, license_id: str, key: str, body: dict[str, Any]) -> Answer:
        try:
            return super().checkin(license_id, key, body)
        except ApiError as exc:
            raise self._as_400(exc) from None
