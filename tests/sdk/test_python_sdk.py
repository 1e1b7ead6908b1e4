"""The official Python SDK (`licensekit-sdk`) drives the reference server end to end.

Three flows, as a customer's code would run them: ASCII data, non-ASCII data
(where the Python SDK cannot verify what the TypeScript and Ruby SDKs can:
the facts' documented disagreement), and a policy with no features. Every
answer the SDK receives — system, management and runtime — must validate
against the official contract's schemas.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from licensekit import ApiError, ManagementClient, PublicKeyStore, RuntimeClient, SystemClient, verify_runtime_result

from leasecheck.core.client import hardware_binding, new_key
from leasecheck.core.signing import KeyRing, is_ascii_data


class Recorder:
    """An httpx client whose every answer is kept, to be judged against the contract."""

    def __init__(self) -> None:
        self.responses: list[httpx.Response] = []
        self.client = httpx.Client(event_hooks={"response": [self._keep]})

    def _keep(self, response: httpx.Response) -> None:
        response.read()
        self.responses.append(response)


@pytest.fixture
def sdk(server):
    rec = Recorder()
    system = SystemClient(base_url=server.base_url, client=rec.client)
    mgmt = ManagementClient(base_url=server.base_url, token=server.management_token, client=rec.client)
    yield rec, system, mgmt
    rec.client.close()


def provision(mgmt: ManagementClient, seats: int, features: list[dict[str, Any]] | None) -> dict[str, Any]:
    code = uuid.uuid4().hex[:8]
    product = mgmt.create_product(body={"name": f"p {code}", "code": f"p-{code}"}, idempotency_key=new_key())["data"]
    policy_body: dict[str, Any] = {
        "name": f"floating {code}",
        "code": f"f-{code}",
        "license_type": "subscription",
        "max_floating_users": seats,
        "floating_timeout_minutes": 2,
    }
    if features is not None:
        policy_body["metadata"] = {"features": features}
    policy = mgmt.create_policy(path={"id": product["id"]}, body=policy_body, idempotency_key=new_key())["data"]
    created = mgmt.create_license(
        body={"product_id": product["id"], "policy_id": policy["id"]}, idempotency_key=new_key()
    )["data"]
    return {"license": created["license"], "key": created["license_key"]}


FLOWS = {
    "ascii": [{"code": "export-pdf", "enabled": True}],
    "non-ascii": [{"code": "größe-日本語", "enabled": True}],
    "no-features": None,
}


@pytest.mark.parametrize("flow", list(FLOWS))
def test_sdk_flow_against_the_reference_server(server, sdk, contract, flow):
    rec, system, mgmt = sdk
    assert system.health()["data"]["status"] == "ok"
    assert system.readyz()["data"]["status"] == "ready"
    keys = system.list_public_keys()["data"]
    store = PublicKeyStore(keys)
    made = provision(mgmt, seats=1, features=FLOWS[flow])
    runtime = RuntimeClient(base_url=server.base_url, license_key=made["key"], client=rec.client)

    key, binding = new_key(), hardware_binding()
    out = runtime.checkout_floating_license(body=binding, idempotency_key=key)
    replay = runtime.checkout_floating_license(body=binding, idempotency_key=key)
    assert replay["data"]["lease_token"] == out["data"]["lease_token"]
    hb = runtime.heartbeat_floating_license(body={"lease_token": out["data"]["lease_token"]})
    with pytest.raises(ApiError) as over:
        runtime.checkout_floating_license(body=hardware_binding(), idempotency_key=new_key())
    assert over.value.status in (403, 409) and over.value.code and over.value.request_id
    ci = runtime.checkin_floating_license(body={"lease_token": out["data"]["lease_token"]}, idempotency_key=new_key())

    ring = KeyRing(keys)
    assert (flow == "non-ascii") == any(not is_ascii_data(a["data"]) for a in (out, replay, hb, ci))
    for answer in (out, replay, hb, ci):
        python_ok = verify_runtime_result(answer, store).ok
        ts_ruby = ring.verify_each_sdk(answer)
        assert ts_ruby["typescript"] is None and ts_ruby["ruby"] is None  # the reference server signs raw UTF-8
        if not is_ascii_data(answer["data"]):
            # The documented disagreement: non-ASCII data, no signature satisfies both rules.
            assert not python_ok
        else:
            assert python_ok, f"{flow}: the Python SDK does not verify {answer['data']}"

    lic = made["license"]
    assert mgmt.suspend_license(path={"id": lic["id"]}, idempotency_key=new_key())["data"]["status"] == "suspended"
    assert mgmt.reinstate_license(path={"id": lic["id"]}, idempotency_key=new_key())["data"]["status"] == "active"
    assert mgmt.revoke_license(path={"id": lic["id"]}, idempotency_key=new_key())["data"]["status"] == "revoked"

    problems = [p for r in rec.responses for p in contract.problems(r)]
    assert not problems, "\n".join(problems)
    assert len(rec.responses) >= 14
