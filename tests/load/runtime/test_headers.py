"""Answer headers by lower-case name, from real geventhttpclient headers."""

from __future__ import annotations

from geventhttpclient.header import Headers

from leasecheck.load.runtime.headers import lowered


def test_headers_by_lower_case_name_as_a_dict_of_their_items_would_have_them():
    h = Headers([("Content-Type", "application/json"), ("Idempotent-Replayed", "true"), ("X-A", "1"), ("x-a", "2")])
    assert lowered(h) == {k.lower(): v for k, v in h.items()}
    assert lowered(h)["idempotent-replayed"] == "true"
    assert lowered(h)["x-a"] == "2"  # a repeated header: its last line


def test_other_header_mappings_and_none():
    assert lowered({"Date": "Wed, 02 Dec 2026 06:31:22 GMT"}) == {"date": "Wed, 02 Dec 2026 06:31:22 GMT"}
    assert lowered(None) == {}
