"""What to send next: every operation of the model, from every state the run reached.

The candidates are the model's operations crossed with what they can touch
in the state observed so far: a checkout by a new device, by a device that
holds a lease here or under another license, replaying a key (same body,
another body, another license's key, a checkin's key, a key of the largest
length); a heartbeat or checkin of a lease that is live, near its expiry,
expired or ended, under its own license or another; suspend, reinstate and
revoke; a wait to just before or just after a lease's expiry; a pool filled
to exactly N and one more.

Each candidate has a coverage key: what it is, the license's status, and the
state of the model it meets — the pool (full or free; some of its seats held
by leases granted before the last status change), the lease (live, near,
expired, ended; held through a status change; its device holding a lease
under another license), or the stored record a reused key meets (a key of
the largest length, its lease ended since, a status change since). A draw
takes an operation of the model first (checkout, heartbeat, checkin, fill,
status change, each about as often; a time boundary less, as it costs a
wait), then one of its kinds (the less used, the likelier), then the state
it meets (the less visited, the likelier): a state reached for the first
time is tried soon, and the many kinds of a checkout or the many leases of
one state do not crowd out the rarer operations. Several runtime candidates
are sent together as one round about half the time.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from .execute import Run
from .steps import MANAGEMENT, Round, Step

Key = tuple[str, str, str]
#: How many runtime steps a round may hold.
MAX_TOGETHER = 3
#: A time boundary costs a wait of most of a lease window; drawn this much less often than a request.
BOUNDARY_WEIGHT = 0.2
#: How much likelier a reinstate of a suspended license is than another status change.
REINSTATE_WEIGHT = 4.0
#: How often each operation of the model is drawn, relative to a request (`family`).
FAMILY_WEIGHT = {"time boundary": BOUNDARY_WEIGHT}


@dataclass
class Candidate:
    key: Key
    steps: tuple[Step, ...]
    alone: bool = False  # boundaries, fills and status changes are sent by themselves
    sequence: bool = False  # the steps go one after another (a wait, then the request at the boundary)


@dataclass
class Chooser:
    rng: random.Random
    management: bool
    coverage: Counter[Key] = field(default_factory=Counter)
    sids: itertools.count = field(default_factory=lambda: itertools.count(1))
    devices: itertools.count = field(default_factory=itertools.count)
    _revokes: int = 0

    def next_rounds(self, run: Run) -> tuple[Round, ...]:
        """The next rounds to send: one round, or a boundary's wait and its request."""
        cands = self.candidates(run)
        first = self._draw(cands)
        if first.sequence:
            self.coverage[first.key] += 1
            return tuple((s,) for s in first.steps)
        return (self._round(first, cands),)

    def _round(self, first: Candidate, cands: list[Candidate]) -> Round:
        chosen = [first]
        if not first.alone and self.rng.random() < 0.5:
            for _ in range(self.rng.randint(1, MAX_TOGETHER - 1)):
                together = [c for c in cands if not c.alone and c not in chosen]
                if not together:
                    break
                chosen.append(self._draw(together))
        for c in chosen:
            self.coverage[c.key] += 1
        return tuple(s for c in chosen for s in c.steps)

    def _draw(self, cands: list[Candidate]) -> Candidate:
        """An operation of the model first (each about as often: `FAMILY_WEIGHT`), then one of its
        kinds (a replay, a key with another body, ...; the less used, the likelier), then the
        state it meets (the less visited, the likelier), then one candidate of that: the many
        kinds of a checkout, the many states a key or lease can be in and the many leases of one
        state do not crowd out a fill, a status change or the one kind not tried yet."""
        by_family: dict[str, list[Candidate]] = {}
        for c in cands:
            by_family.setdefault(family(c), []).append(c)
        families = list(by_family)
        pick = by_family[self.rng.choices(families, [FAMILY_WEIGHT.get(f, 1.0) for f in families])[0]]
        by_what: dict[str, list[Candidate]] = {}
        for c in pick:
            by_what.setdefault(c.key[0], []).append(c)
        whats = list(by_what)
        used: Counter[str] = Counter()
        for k, n in list(self.coverage.items()):  # one C-level copy: other programs' threads add to it
            used[k[0]] += n
        what = by_what[self.rng.choices(whats, [max(map(_weight, by_what[w])) / (1 + used[w]) for w in whats])[0]]
        by_key: dict[Key, list[Candidate]] = {}
        for c in what:
            by_key.setdefault(c.key, []).append(c)
        keys = list(by_key)
        weights = [1 / (1 + self.coverage[k]) ** 2 for k in keys]
        return self.rng.choice(by_key[self.rng.choices(keys, weights)[0]])

    def _sid(self) -> int:
        return next(self.sids)

    def _new_device(self) -> int:
        return next(self.devices)

    # ------------------------------------------------------------------ candidates
    def candidates(self, run: Run) -> list[Candidate]:
        now = time.time()
        out: list[Candidate] = []
        n = len(run.pool.licenses)
        leases = [(sid, tok, run.owner[tok]) for sid, tok in run.tokens.items() if run.owner.get(tok) is not None]
        for lic in range(n):
            st = run.status[lic]
            pool = run.pool_state(lic, now)
            out += self._checkouts(run, lic, st, pool, leases, now)
            if self.management:
                out += self._status_changes(lic, st)
        by_device = _leases_by_device(run, leases, now)
        for sid, tok, owner in leases:
            state = run.lease_state(tok, now)
            held_elsewhere = elsewhere(by_device, run.device_of.get(sid), owner)
            own = state + run.held_through(tok, now)
            for lic in range(n):
                rel = "own" if lic == owner else "other license's"
                st = run.status[lic]
                # Only its holder's heartbeat tells this state apart: a few new combinations, not many.
                seen = own + held_elsewhere if lic == owner else state
                out.append(
                    Candidate((f"heartbeat {rel} lease", st, seen), (Step(self._sid(), "heartbeat", lic, lease=sid),))
                )
                out += self._checkins(run, lic, sid, rel, st, own if lic == owner else state)
            if state in ("live", "near") and tok in run.acks:
                out += self._boundaries(run, sid, owner, now)
        return out

    def _boundaries(self, run: Run, sid: int, owner: int, now: float) -> list[Candidate]:
        """The contract's time boundary: a request just before, or just after, a lease's expiry."""
        st = run.status[owner]
        pool = run.pool_state(owner, now)
        out = []
        for at in ("before", "after"):
            requests = (
                ("heartbeat", Step(self._sid(), "heartbeat", owner, lease=sid)),
                ("checkin", Step(self._sid(), "checkin", owner, lease=sid)),
                ("checkout by a new device", Step(self._sid(), "checkout", owner, device=self._new_device())),
            )
            for what, step in requests:
                out.append(
                    Candidate(
                        (f"{what} just {at} expiry", st, pool),
                        (Step(self._sid(), "wait", owner, lease=sid, at=at), step),
                        alone=True,
                        sequence=True,
                    )
                )
        return out

    def _checkouts(
        self, run: Run, lic: int, st: str, pool: str, leases: list[tuple[int, str, int]], now: float
    ) -> list[Candidate]:
        mine = [s for s, _, o in leases if o == lic]
        others = [s for s, _, o in leases if o != lic]
        own_keys = [s for s, e in run.endpoint.items() if e == "checkout" and _lic_of(run, s) == lic]
        other_keys = [s for s, e in run.endpoint.items() if e == "checkout" and _lic_of(run, s) != lic]
        checkin_keys = [s for s, e in run.endpoint.items() if e == "checkin" and _lic_of(run, s) == lic]

        def co(what: str, device: int, key: str = "fresh", key_of: int | None = None, record: str = "") -> Candidate:
            return Candidate(
                (f"checkout {what}", st, pool + (f"; {record}" if record else "")),
                (Step(self._sid(), "checkout", lic, device=device, key=key, key_of=key_of),),
            )

        out = [co("new device", self._new_device()), co("new device, longest key", self._new_device(), "long")]
        long_devices = [d for s, d in run.device_of.items() if d % 3 == 2 and _lic_of(run, s) == lic]
        if long_devices:
            nxt = self._new_device()
            while nxt % 3 != 2:
                nxt = self._new_device()
            out.append(co("another longest fingerprint", nxt))
        for lease, sids in _by_lease(run, mine, now).items():
            out.append(co("same device again", run.device_of[self.rng.choice(sids)], record=lease))
        for lease, sids in _by_lease(run, others, now).items():
            out.append(co("device of another license", run.device_of[self.rng.choice(sids)], record=lease))
        for record, ks in _by_record(run, own_keys, now).items():
            k = self.rng.choice(ks)
            out.append(co("replay", run.device_of.get(k, 0), "replay", k, f"the key's record: {record}"))
            out.append(co("key with another body", self._new_device(), "other-body", k, f"the key's record: {record}"))
        if other_keys:
            out.append(co("another license's key", 0, "other-license", self.rng.choice(other_keys)))
        if checkin_keys:
            out.append(co("a checkin's key", self._new_device(), "other-endpoint", self.rng.choice(checkin_keys)))
        free = max(0, run.pool.seats[lic] - run.held(lic, now))
        fill = tuple(Step(self._sid(), "checkout", lic, device=self._new_device()) for _ in range(free + 1))
        out.append(Candidate((f"fill to exactly {run.pool.seats[lic]} and one more", st, pool), fill, alone=True))
        return out

    def _checkins(self, run: Run, lic: int, sid: int, rel: str, st: str, state: str) -> list[Candidate]:
        def ci(what: str, key: str = "fresh", key_of: int | None = None, record: str = "") -> Candidate:
            return Candidate(
                (f"checkin {rel} lease{what}", st, state + (f"; the key's record: {record}" if record else "")),
                (Step(self._sid(), "checkin", lic, lease=sid, key=key, key_of=key_of),),
            )

        out = [ci(""), ci(", longest key", "long")]
        checkins = [s for s, e in run.endpoint.items() if e == "checkin" and _lic_of(run, s) == lic]
        checkouts = [s for s, e in run.endpoint.items() if e == "checkout" and _lic_of(run, s) == lic]
        for record, ks in _by_record(run, checkins, time.time()).items():
            k = self.rng.choice(ks)
            out.append(ci(", replayed", "replay", k, record))
            out.append(ci(", another checkin's key", "other-body", k, record))
        if checkouts:
            out.append(ci(", a checkout's key", "other-endpoint", self.rng.choice(checkouts)))
        foreign = [s for s, e in run.endpoint.items() if e == "checkin" and _lic_of(run, s) not in (lic, -1)]
        if foreign:
            out.append(ci(", another license's checkin key", "other-license", self.rng.choice(foreign)))
        return out

    def _status_changes(self, lic: int, st: str) -> list[Candidate]:
        out = []
        for action in ("suspend", "reinstate", "revoke"):
            if action == "revoke" and self._revokes >= 1:
                continue  # final: at most one license per run ends that way
            out.append(Candidate((action, st, "license"), (Step(self._sid(), action, lic),), alone=True))
        return out

    def note_revoke(self, rnd: Round) -> None:
        self._revokes += sum(1 for s in rnd if s.op == "revoke")


def family(c: Candidate) -> str:
    """The operation of the model a candidate is: checkout, heartbeat, checkin, a fill of a pool
    (checkouts to exactly N and one more), a status change, or a time boundary (a wait, then a request)."""
    if c.sequence:
        return "time boundary"
    if c.key[0].startswith("fill"):
        return "fill"
    op = c.steps[0].op
    return "status change" if op in MANAGEMENT else op


def _weight(c: Candidate) -> float:
    """A suspension is short-lived in practice: reinstate it soon, while the leases held
    through it are still live."""
    if c.key[0] == "reinstate" and c.key[1] == "suspended":
        return REINSTATE_WEIGHT
    return 1.0


def _leases_by_device(run: Run, leases: list[tuple[int, str, int]], now: float) -> dict[int, list[tuple[int, str]]]:
    """Each device's leases as (license, state): the model's leases are license and device."""
    out: dict[int, list[tuple[int, str]]] = {}
    for sid, tok, owner in leases:
        device = run.device_of.get(sid)
        if device is not None:
            out.setdefault(device, []).append((owner, run.lease_state(tok, now)))
    return out


def elsewhere(by_device: dict[int, list[tuple[int, str]]], device: int | None, owner: int) -> str:
    """What a lease's device holds under other licenses, as part of the lease's state: nothing
    (""), a live lease there, or only ended ones (what it did there is then followed by a use here)."""
    other = [state for lic, state in by_device.get(device, []) if lic != owner] if device is not None else []
    if not other:
        return ""
    return ", its device's lease of another license " + (
        "live" if any(st in ("live", "near") for st in other) else "ended"
    )


def _by_record(run: Run, sids: list[int], now: float) -> dict[str, list[int]]:
    """Keys grouped by the state of the record a reuse meets (`Run.record_state`): one candidate
    per state, so a rare one (a long key whose lease ended, a key from before a status change)
    is a combination of its own, not one key among many."""
    out: dict[str, list[int]] = {}
    for sid in sids:
        out.setdefault(run.record_state(sid, now), []).append(sid)
    return out


def _by_lease(run: Run, sids: list[int], now: float) -> dict[str, list[int]]:
    """Checkouts grouped by the state of their device's lease (live, near, expired, ended): a
    device checking out again after its lease ended is a combination of its own, not one
    device among many."""
    out: dict[str, list[int]] = {}
    for sid in sids:
        out.setdefault(f"the device's lease {run.lease_state(run.tokens[sid], now)}", []).append(sid)
    return out


def _lic_of(run: Run, sid: int) -> int:
    """The license a recorded request was sent under."""
    return run.sent_under.get(sid, -1)
