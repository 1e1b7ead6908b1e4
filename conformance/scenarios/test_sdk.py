"""sdk: the official LicenseKit Python SDK (`licensekit-sdk`) drives the target.

A vendor's customers reach the server through the official SDKs, so these
scenarios use the SDK's own clients (`RuntimeClient`, `SystemClient`,
`ManagementClient` and their `.raw` forms) and let the SDK's own
`verify_runtime_result` judge every signature. The SDK sends through the
suite's `Http` (`HttpTransport`), so its traffic is paced, recorded as
evidence and checked like the suite's own. Data is kept ASCII-only here: for
non-ASCII data the Python SDK cannot verify any signature that the
TypeScript and Ruby SDKs accept (SIG-08 reports that case).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from licensekit import ApiError, PublicKeyStore, RuntimeClient, SystemClient, verify_runtime_result

from leasecheck.conformance.accepted import DEAD_LEASE, DENIED
from leasecheck.conformance.needs import License
from leasecheck.conformance.target import LicenseFixture, Target
from leasecheck.core.client import Exchange, hardware_binding, new_key
from leasecheck.core.transport import HttpTransport


class Sdk:
    """The SDK's clients for one license, and the exchanges they caused."""

    def __init__(self, target: Target, license_key: str) -> None:
        self.transport = HttpTransport(target.new_http())
        self.runtime = RuntimeClient(base_url=target.base_url, license_key=license_key, transport=self.transport)
        self.system = SystemClient(base_url=target.base_url, transport=self.transport)
        self.keys = PublicKeyStore(self.system.list_public_keys()["data"])

    def last(self) -> Exchange | None:
        return self.transport.exchanges[-1] if self.transport.exchanges else None

    def verifies(self, envelope: Any) -> tuple[bool, str]:
        """The SDK's own verdict on one answer's signature, with the reason when it fails."""
        try:
            result = verify_runtime_result(envelope, self.keys)
        except (TypeError, KeyError) as exc:
            return False, f"verify_runtime_result raised {type(exc).__name__}: {exc}"
        return result.ok, "" if result.ok else "verify_runtime_result returned ok=False"

    def close(self) -> None:
        self.runtime.close()
        self.system.close()


@pytest.fixture
def sdk(target: Target) -> Iterator[Callable[[LicenseFixture], Sdk]]:
    made: list[Sdk] = []

    def make(fixture: LicenseFixture) -> Sdk:
        made.append(Sdk(target, fixture.license_key))
        return made[-1]

    yield make
    for s in made:
        s.close()


def described(call: str, exc: ApiError) -> str:
    return f"{call} raised ApiError(status={exc.status}, code={exc.code!r}, request_id={exc.request_id!r})"


class Calls:
    """SDK calls judged for one requirement: each names the call it makes in any failure."""

    def __init__(self, expect: Any, rid: str, s: Sdk) -> None:
        self.expect, self.rid, self.s = expect, rid, s

    def ok(self, name: str, fn: Callable[[], Any], verify: bool = False) -> Any:
        """Call the SDK; a refusal it should not have met fails the requirement.

        With `verify`, the answer's signature must also verify as the SDK verifies it."""
        try:
            out = fn()
        except ApiError as exc:
            self.expect(self.rid, False, described(name, exc), self.s.last())
            return None
        if verify:
            good, why = self.s.verifies(out)
            self.expect(self.rid, good, f"{name} answer: {why}", self.s.last())
        return out

    def refused(self, name: str, fn: Callable[[], Any], statuses: tuple[int, ...]) -> None:
        """The call must raise ApiError with one of `statuses`, a code and the request id."""
        expect, rid = self.expect, self.rid
        try:
            fn()
        except ApiError as exc:
            ex = self.s.last()
            meta = (ex.json or {}).get("meta") if ex is not None and isinstance(ex.json, dict) else None
            expect(rid, exc.status in statuses, f"{described(name, exc)}; expected status {statuses}", ex)
            expect(rid, bool(exc.code), f"{described(name, exc)}: no error code", ex)
            rid_ok = isinstance(meta, dict) and exc.request_id == meta.get("request_id") and bool(exc.request_id)
            expect(rid, rid_ok, f"{described(name, exc)}: request_id is not the answer's meta.request_id", ex)
            return
        expect(rid, False, f"{name} succeeded; expected ApiError with status {statuses}", self.s.last())


@pytest.mark.requirement("SDK-01")
@pytest.mark.licenses(License(seats=2, minutes=2))
def test_sdk_runs_a_lease(lic, sdk, expect):
    s = sdk(lic(seats=2, timeout_minutes=2))
    c, rt = Calls(expect, "SDK-01", s), s.runtime
    out = c.ok(
        "checkout_floating_license",
        lambda: rt.checkout_floating_license(body=hardware_binding(), idempotency_key=new_key()),
        verify=True,
    )
    token = out["data"]["lease_token"]
    lease = {"lease_token": token}
    c.ok("heartbeat_floating_license", lambda: rt.heartbeat_floating_license(body=lease), verify=True)
    c.ok(
        "checkin_floating_license",
        lambda: rt.checkin_floating_license(body=lease, idempotency_key=new_key()),
        verify=True,
    )


@pytest.mark.requirement("SDK-02")
@pytest.mark.licenses(License(seats=2, minutes=2))
def test_sdk_replays_a_checkout(lic, sdk, expect):
    s = sdk(lic(seats=2, timeout_minutes=2))
    c, body, key = Calls(expect, "SDK-02", s), hardware_binding(), new_key()
    answers = []
    for what in ("first", "replay"):
        env = c.ok(
            f"checkout_floating_license ({what})",
            lambda: s.runtime.checkout_floating_license(body=body, idempotency_key=key),
        )
        answers.append((what, env, s.last()))
    (_, first, ex1), (_, again, ex2) = answers
    tokens = (first["data"]["lease_token"], again["data"]["lease_token"])
    expect("SDK-02", tokens[0] == tokens[1], "the replayed checkout answered another lease_token", ex1, ex2)
    for what, env, ex in answers:
        ok, why = s.verifies(env)
        expect("SDK-02", ok, f"{what} answer: {why}", ex)


@pytest.mark.requirement("SDK-03")
@pytest.mark.licenses(License(seats=1, minutes=2))
def test_sdk_sees_refusals(target, lic, sdk, expect):
    s = sdk(lic(seats=1, timeout_minutes=2))
    c, rt = Calls(expect, "SDK-03", s), s.runtime
    out = c.ok(
        "checkout_floating_license",
        lambda: rt.checkout_floating_license(body=hardware_binding(), idempotency_key=new_key()),
    )
    c.refused(
        "checkout_floating_license over capacity",
        lambda: rt.checkout_floating_license(body=hardware_binding(), idempotency_key=new_key()),
        DENIED,
    )
    lease = {"lease_token": out["data"]["lease_token"]}
    c.ok("checkin_floating_license", lambda: rt.checkin_floating_license(body=lease, idempotency_key=new_key()))
    c.refused(
        "heartbeat_floating_license of a checked-in lease",
        lambda: rt.heartbeat_floating_license(body=lease),
        DEAD_LEASE,
    )
    stranger = RuntimeClient(base_url=target.base_url, license_key="lk_not_a_key_0000", transport=s.transport)
    c.refused(
        "checkout_floating_license with an unknown license key",
        lambda: stranger.checkout_floating_license(body=hardware_binding(), idempotency_key=new_key()),
        (401,),
    )


@pytest.mark.requirement("SDK-04")
@pytest.mark.licenses(License(seats=2, minutes=2))
def test_sdk_raw_forms(lic, sdk, expect):
    s = sdk(lic(seats=2, timeout_minutes=2))
    keys = s.system.raw.list_public_keys()
    expect("SDK-04", keys.status == 200, f"SystemClient.raw.list_public_keys answered {keys.status}", s.last())
    expect("SDK-04", isinstance(keys.data, dict) and "data" in keys.data, "raw public keys carry no data", s.last())
    raw = s.runtime.raw.checkout_floating_license(body=hardware_binding(), idempotency_key=new_key())
    expect("SDK-04", raw.status == 200, f"RuntimeClient.raw.checkout_floating_license answered {raw.status}", s.last())
    ok, why = s.verifies(raw.data)
    expect("SDK-04", ok, f"raw checkout answer: {why}", s.last())
    token = raw.data["data"]["lease_token"]
    ci = s.runtime.raw.checkin_floating_license(body={"lease_token": token}, idempotency_key=new_key())
    expect("SDK-04", ci.status == 200, f"RuntimeClient.raw.checkin_floating_license answered {ci.status}", s.last())
