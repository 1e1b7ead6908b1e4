"""inventory.py: reading an inventory file, and handing out each license at most once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leasecheck.conformance.settings import SettingsError
from leasecheck.conformance.target.inventory import Inventory, InventoryLicense


def entry(seats: int | None, timeout: int | None = 1, **more: object) -> dict[str, object]:
    e: dict[str, object] = {"license_key": f"lk_{seats}_{timeout}_{len(more)}", "max_floating_users": seats, **more}
    if timeout is not None:
        e["floating_timeout_minutes"] = timeout
    return e


def test_json_list_json_object_and_toml_read_alike(tmp_path: Path) -> None:
    as_list = tmp_path / "a.json"
    as_list.write_text(json.dumps([entry(2, name="two")]))
    as_object = tmp_path / "b.json"
    as_object.write_text(json.dumps({"licenses": [entry(2, name="two")]}))
    as_toml = tmp_path / "c.toml"
    as_toml.write_text(
        '[[licenses]]\nname = "two"\nlicense_key = "lk_2_1_1"\nmax_floating_users = 2\nfloating_timeout_minutes = 1\n'
    )
    read = [Inventory.load(p).licenses for p in (as_list, as_object, as_toml)]
    assert read[0] == read[1] == read[2]
    lic = read[0][0]
    assert (lic.name, lic.license_id, lic.max_floating_users, lic.license_type) == ("two", "two", 2, None)


@pytest.mark.parametrize(
    "text,needle",
    [
        ("[{", "is not valid JSON or YAML"),
        ('{"licenses": 3}', "must be a list"),
        ('[{"name": "no key"}]', "license_key"),
    ],
)
def test_an_unusable_inventory_is_a_settings_error(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "inv.json"
    path.write_text(text)
    with pytest.raises(SettingsError, match=needle):
        Inventory.load(path)


def test_a_license_fits_the_same_seats_and_a_timeout_not_far_longer() -> None:
    lic = InventoryLicense.from_entry(entry(2, timeout=5))
    assert lic.fits(2, 1) and lic.fits(2, 3)
    assert not lic.fits(3, 1)  # other seats
    assert not InventoryLicense.from_entry(entry(2, timeout=6)).fits(2, 1)  # over 5 x the asked timeout
    assert InventoryLicense.from_entry(entry(None, timeout=60)).fits(None, 1)  # unlimited: any timeout
    untold = InventoryLicense.from_entry(entry(2, timeout=None))
    assert untold.fits(2, 1) and untold.timeout_or(4) == 4


def test_each_license_is_handed_out_once() -> None:
    inv = Inventory([InventoryLicense.from_entry(entry(1)), InventoryLicense.from_entry(entry(2))])
    first = inv.claim(1, 1)
    assert first is not None and first.max_floating_users == 1
    assert inv.claim(1, 1) is None
    assert inv.claim(2, 1) is not None


def test_a_policy_without_max_floating_users_is_null_or_unlimited_and_never_absent(tmp_path: Path) -> None:
    toml = tmp_path / "inv.toml"
    toml.write_text('[[licenses]]\nlicense_key = "k"\nmax_floating_users = "unlimited"\n')
    as_json = tmp_path / "inv.json"
    as_json.write_text(json.dumps([{"license_key": "k", "max_floating_users": None}]))
    for path in (toml, as_json):
        assert Inventory.load(path).licenses[0].max_floating_users is None
    absent = tmp_path / "absent.json"
    absent.write_text(json.dumps([{"license_key": "k", "name": "forgot"}]))
    with pytest.raises(SettingsError, match=r"license 1 \(forgot\): max_floating_users is missing"):
        Inventory.load(absent)


def test_the_closest_timeout_is_claimed_so_a_long_one_stays_for_its_ask() -> None:
    """A 1-minute ask takes the 1-minute license although the 5-minute one fits too;
    a 5-minute ask still finds its license afterwards."""
    inv = Inventory([InventoryLicense.from_entry(entry(2, timeout=5)), InventoryLicense.from_entry(entry(2, 1))])
    short = inv.claim(2, 1)
    assert short is not None and short.floating_timeout_minutes == 1
    long = inv.claim(2, 5)
    assert long is not None and long.floating_timeout_minutes == 5
