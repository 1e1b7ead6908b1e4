"""results.json as one self-contained HTML page a vendor can act on and forward.

Self-contained means one file with its CSS inline and nothing fetched (no fonts,
scripts or images): it is mailed, attached to tickets and opened offline.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .coverage_view import by_operation, not_run_groups
from .page import build_page, row_id
from .spec_text import requirement_text

_env = Environment(
    loader=PackageLoader("leasecheck.conformance", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(results: dict[str, Any]) -> str:
    """The report page for one run (results.json as a dict)."""
    page = build_page(results)
    return _env.get_template("report.html.j2").render(
        p=page,
        r=results,
        row_id=lambda rid: row_id(rid, page),
        statement=lambda rid: requirement_text(rid, "").statement,
        coverage_rows=by_operation(results.get("coverage") or {}),
        not_run=not_run_groups(results.get("coverage") or {}),
    )
