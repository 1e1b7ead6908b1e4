"""`load/profiles/params.py`: a knob's value is typed like its default and kept
within the knob's declared range, the same check for every profile's knobs."""

from __future__ import annotations

import pytest

from leasecheck.load.profiles import discover
from leasecheck.load.profiles.params import Param, ParamError, resolve

KNOBS = (
    Param("round_seconds", 1.0, above=0),
    Param("retry_jitter", 0.05, least=0),
    Param("share", 0.2, least=0, most=1),
    Param("attempts", 6, least=1),
    Param("ratios", "2,10"),
)


@pytest.mark.parametrize(
    "key, value, says",
    [
        ("round_seconds", "0", "--param round_seconds must be a finite number greater than 0, not 0"),
        ("round_seconds", "-1", "greater than 0, not -1"),
        ("round_seconds", "nan", "must be a finite number greater than 0, not nan"),
        ("round_seconds", "inf", "not inf"),
        ("retry_jitter", "-1", "--param retry_jitter must be a finite number at least 0, not -1"),
        ("share", "1.5", "--param share must be a finite number from 0 to 1, not 1.5"),
        ("attempts", "0", "--param attempts must be a whole number at least 1, not 0"),
    ],
)
def test_a_value_out_of_range_is_refused_in_one_line(key, value, says):
    with pytest.raises(ParamError) as err:
        resolve("p", KNOBS, {key: value})
    assert says in str(err.value)


def test_values_in_range_are_kept():
    got = resolve("p", KNOBS, {"round_seconds": "0.5", "retry_jitter": "0", "share": "1", "attempts": "1"})
    assert got == {"round_seconds": 0.5, "retry_jitter": 0.0, "share": 1.0, "attempts": 1, "ratios": "2,10"}


def test_a_number_knob_must_declare_its_range_and_its_default_must_fit_it():
    with pytest.raises(TypeError, match="needs a lower bound"):
        Param("speed", 1.0)
    with pytest.raises(TypeError, match="out of its own range"):
        Param("speed", 0.0, above=0)


@pytest.mark.parametrize("profile", sorted(discover()))
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1"])
def test_every_profiles_number_knobs_refuse_nan_inf_and_negatives(profile, value):
    """`step_seconds=nan` used to be accepted (the run never ended), `round_seconds=-1`,
    `rate_step=-5` and `retry_jitter=-1` too: one check now covers every profile's knobs."""
    p = discover()[profile]
    for knob in p.params:
        if isinstance(knob.default, str) or (isinstance(knob.default, int) and value != "-1"):
            continue  # int("nan") is already not an int
        with pytest.raises(ParamError, match=f"--param {knob.name} must be"):
            p.knobs({knob.name: value})
