"""The reports a run writes from results.json: JUnit for CI, one HTML page for people.

results.json is the single input: everything either report shows is in it or is
derived at render time from the catalogue the run used (a requirement's
statement, accepted answers and source), so a report can be re-rendered from a
results.json alone.
"""

from .html import render_html
from .junit import render_junit

__all__ = ["render_html", "render_junit"]
