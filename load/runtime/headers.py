"""An answer's headers as the core's `Exchange` holds them: a dict by lower-case name.

Every answer of a load run goes through this, so it reads geventhttpclient's
own storage instead of its item iterator: `Headers` already keys each field
by its lower-case name, holding one (name, value) line or a list of them.
"""

from __future__ import annotations

from typing import Any

from geventhttpclient.header import Headers


def lowered(headers: Any) -> dict[str, str]:
    """The headers by lower-case name; of a repeated one, its last line (as a dict
    built from the items would keep). Any other mapping is lowered item by item."""
    if type(headers) is Headers:
        return {k: v[1] if type(v) is tuple else v[-1][1] for k, v in dict.items(headers) if v}
    return {k.lower(): v for k, v in (headers or {}).items()}
