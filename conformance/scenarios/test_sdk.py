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


def call(expect: Any, rid: str, name: str, fn: Callable[[], Any], s: Sdk) -> Any:
    """Call the SDK; a refusal it should not have met fails `rid` naming the call and the error."""
    try:
        return fn()
    except ApiError as exc:
        expect(rid, False, described(name, exc), s.last())
    return None


@pytest.mark.requirement("SDK-01")
def test_sdk_runs_a_lease(lic, sdk, expect):
    s = sdk(lic(seats=2, timeout_minutes=2))
    out = call(
        expect,
        "SDK-01",
        "checkout_floating_license",
        lambda: s.runtime.checkout_floating_license(body=hardware_binding(), idempotency_key=new_key()),
        s,
    )
    token = out["data"]["lease_token"]
    ok, why = s.verifies(out)
    expect("SDK-01", ok, f"checkout answer: {why}", s.last())
    hb = call(
        expect,
        "SDK-01",
        "heartbeat_floating_license",
        lambda: s.runtime.heartbeat_floating_license(body={"lease_token": token}),
        s,
    )
    ok, why = s.verifies(hb)
    expect("SDK-01", ok, f"heartbeat answer: {why}", s.last())
    ci = call(
        expect,
        "SDK-01",
        "checkin_floating_license",
        lambda: s.runtime.checkin_floating_license(body={"lease_token": token}, idempotency_key=new_key()),
        s,
    )
    ok, why = s.verifies(ci)
    expect("SDK-01", ok, f"checkin answer: {why}", s.last())


@pytest.mark.requirement("SDK-02")
def test_sdk_replays_a_checkout(lic, sdk, expect):
    s = sdk(lic(seats=2, timeout_minutes=2))
    body, key = hardware_binding(), new_key()
    first = call(
        expect,
        "SDK-02",
        "checkout_floating_license",
        lambda: s.runtime.checkout_floating_license(body=body, idempotency_key=key),
        s,
    )
    ex1 = s.last()
    again = call(
        expect,
        "SDK-02",
        "checkout_floating_license (replay)",
        lambda: s.runtime.checkout_floating_license(body=body, idempotency_key=key),
        s,
    )
    ex2 = s.last()
    tokens = (first["data"]["lease_token"], again["data"]["lease_token"])
    expect("SDK-02", tokens[0] == tokens[1], "the replayed checkout answered another lease_token", ex1, ex2)
    for what, env, ex in (("first", first, ex1), ("replay", again, ex2)):
        ok, why = s.verifies(env)
        expect("SDK-02", ok, f"{what} answer: {why}", ex)


def refused(expect: Any, rid: str, name: str, fn: Callable[[], Any], s: Sdk, statuses: tuple[int, ...]) -> None:
    """The call must raise ApiError with one of `statuses`, a code and the request id."""
    try:
        fn()
    except ApiError as exc:
        ex = s.last()
        meta = (ex.json or {}).get("meta") if ex is not None and isinstance(ex.json, dict) else None
        expect(rid, exc.status in statuses, f"{described(name, exc)}; expected status {statuses}", ex)
        expect(rid, bool(exc.code), f"{described(name, exc)}: no error code", ex)
        rid_ok = isinstance(meta, dict) and exc.request_id == meta.get("request_id") and bool(exc.request_id)
        expect(rid, rid_ok, f"{described(name, exc)}: request_id is not the answer's meta.request_id", ex)
        return
    expect(rid, False, f"{name} succeeded; expected ApiError with status {statuses}", s.last())


@pytest.mark.requirement("SDK-03")
def test_sdk_sees_refusals(target, lic, sdk, expect):
    f = lic(seats=1, timeout_minutes=2)
    s = sdk(f)
    out = call(
        expect,
        "SDK-03",
        "checkout_floating_license",
        lambda: s.runtime.checkout_floating_license(body=hardware_binding(), idempotency_key=new_key()),
        s,
    )
    refused(
        expect,
        "SDK-03",
        "checkout_floating_license over capacity",
        lambda: s.runtime.checkout_floating_license(body=hardware_binding(), idempotency_key=new_key()),
        s,
        DENIED,
    )
    token = out["data"]["lease_token"]
    call(
        expect,
        "SDK-03",
        "checkin_floating_license",
        lambda: s.runtime.checkin_floating_license(body={"lease_token": token}, idempotency_key=new_key()),
        s,
    )
    refused(
        expect,
        "SDK-03",
        "heartbeat_floating_license of a checked-in lease",
        lambda: s.runtime.heartbeat_floating_license(body={"lease_token": token}),
        s,
        DEAD_LEASE,
    )
    stranger = RuntimeClient(base_url=target.base_url, license_key="lk_not_a_key_0000", transport=s.transport)
    refused(
        expect,
        "SDK-03",
        "checkout_floating_license with an unknown license key",
        lambda: stranger.checkout_floating_license(body=hardware_binding(), idempotency_key=new_key()),
        s,
        (401,),
    )


@pytest.mark.requirement("SDK-04")
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
