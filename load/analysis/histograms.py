"""The latency histograms every shard carries: one range, one precision.

The recorder inside each locust process fills them and the judge adds them
up (`HdrHistogram.add`), so both sides must build them alike; this is the
one place that says how.
"""

from __future__ import annotations

from hdrh.histogram import HdrHistogram

#: Latency range: 1 µs .. 60 s. Totals keep 3 significant figures, per-second buckets 2.
LOWEST_US, HIGHEST_US = 1, 60_000_000


def new_histogram(figures: int = 3) -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, figures)


def record_latency(seconds: float, *hists: HdrHistogram) -> None:
    """One latency into each of `hists` (an answer goes into its endpoint's total
    and into its second's bucket), clamped to the range once."""
    value = min(max(int(seconds * 1e6), LOWEST_US), HIGHEST_US)
    for hist in hists:
        hist.record_value(value)
