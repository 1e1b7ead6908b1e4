"""config: schemathesis accepts the configuration, scoped per operation; the key hook is the run's only."""

from __future__ import annotations

from types import SimpleNamespace

from leasecheck.conformance.generated.config import (
    fresh_idempotency_keys,
    fresh_key,
    load_schema,
    operation_ids,
    schemathesis_config,
)
from leasecheck.conformance.generated.operations import RUNTIME, SYSTEM

from .conftest import KEY


def config(**overrides: object) -> dict:
    args: dict = {"base_url": "http://127.0.0.1:9", "license_key": KEY, "request_timeout": 10.0, "seed": 7}
    args.update(max_examples=3, **overrides)
    return schemathesis_config(**args)


def test_configuration_is_accepted_by_schemathesis_and_scoped_per_operation():
    schema = load_schema(config())
    labels = operation_ids(schema)
    assert set(labels.values()) == {*RUNTIME, *SYSTEM}  # management is excluded
    ops = {r.ok().label: r.ok() for r in schema.get_all_operations() if hasattr(r, "ok")}
    by_id = {op_id: ops[label] for label, op_id in labels.items()}
    checkout = schema.config.checks_config_for(operation=by_id["checkoutFloatingLicense"], phase=None)
    assert "422" in checkout.positive_data_acceptance.expected_statuses
    health = schema.config.checks_config_for(operation=by_id["health"], phase=None)
    assert "422" not in health.positive_data_acceptance.expected_statuses
    assert schema.config.seed == 7


def test_the_license_key_is_the_license_scheme_value():
    assert config()["auth"]["openapi"]["licenseAuth"]["api_key"] == f"License {KEY}"


def test_fresh_keys_are_unique_and_keep_long_lengths():
    assert len({fresh_key("0") for _ in range(100)}) == 100
    long = "x" * 255
    assert len(fresh_key(long)) == 255 and fresh_key(long) != fresh_key(long)


def test_key_hook_is_registered_only_for_the_run_and_leaves_invalid_keys_alone():
    from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

    schema = object()
    before = len(GLOBAL_HOOK_DISPATCHER.get_all_by_name("before_call"))
    with fresh_idempotency_keys(schema):
        hooks = GLOBAL_HOOK_DISPATCHER.get_all_by_name("before_call")
        assert len(hooks) == before + 1
        hook = hooks[-1]
        for value, replaced in (("0", True), ("", False), ("k" * 256, False)):
            case = SimpleNamespace(operation=SimpleNamespace(schema=schema), headers={"Idempotency-Key": value})
            hook(None, case, {})
            assert (case.headers["Idempotency-Key"] != value) is replaced
        other = SimpleNamespace(operation=SimpleNamespace(schema=object()), headers={"Idempotency-Key": "0"})
        hook(None, other, {})
        assert other.headers["Idempotency-Key"] == "0"
    assert len(GLOBAL_HOOK_DISPATCHER.get_all_by_name("before_call")) == before


def test_fuzzing_skips_the_system_operations_which_take_no_input():
    schema = load_schema(config())
    ops = {schema.get_operation_id(r.ok()): r.ok() for r in schema.get_all_operations() if hasattr(r, "ok")}
    fuzzing = {op_id: schema.config.phases_for(operation=op).fuzzing.enabled for op_id, op in ops.items()}
    assert fuzzing == {**{op_id: True for op_id in RUNTIME}, **{op_id: False for op_id in SYSTEM}}


def test_a_far_run_splits_the_phases_between_two_engines():
    units, stateful = (
        load_schema(config(phases=("examples", "coverage", "fuzzing"))),
        load_schema(config(phases=("stateful",))),
    )
    assert units.config.phases.stateful.enabled is False and units.config.phases.coverage.enabled
    assert stateful.config.phases.stateful.enabled and stateful.config.phases.coverage.enabled is False
