"""Starting a run: the server under test, reached and recorded before the first scenario.

Without a target the run starts the bundled reference server (its database
is temporary). Either way the target must answer /health, and accept the
management token (core/preflight.py), before anything else is sent; what it runs is taken from the settings or its Server header;
against a real target the run ledger is opened first, so that whatever the
run creates from then on can be undone even if the run is killed.
"""

from __future__ import annotations

from leasecheck import __version__
from leasecheck.core.ledger import Ledger, LedgerError, state_dir
from leasecheck.core.preflight import TokenRefused, require_management_token
from leasecheck.core.probe import TargetUnreachable, probe
from leasecheck.core.server_process import ReferenceServer

from .settings import DEFAULT_CONCURRENCY, Settings
from .state import RunState
from .target import Target


class StartFailed(Exception):
    """The run cannot start (target unreachable, ledger unusable); the one-line reason."""


def launch_bundled(st: RunState) -> None:
    """Without a target, start the bundled server's process now, as the session is
    configured: it starts up (0.6 s, its imports and database) while pytest collects
    the scenarios, and `start_target` waits for it to be ready."""
    if st.settings.bundled and st.server is None:
        st.server = ReferenceServer(minute_seconds=st.settings.minute).launch()


def start_target(st: RunState) -> Target:
    """The run's Target, made once: started, probed and wired to the run state."""
    if st.target is not None:
        return st.target
    s = st.settings
    token = s.management_token
    base = s.target
    if s.bundled:
        launch_bundled(st)
        assert st.server is not None
        st.server.wait_ready()
        base, token = st.server.base_url, st.server.management_token
    assert base is not None  # a target, or the bundled server's URL once started
    try:
        health = probe(base, timeout=min(s.request_timeout, 5.0))
        if not s.bundled and token:  # before anything is provisioned (the CLI asked already)
            require_management_token(base, token, timeout=s.request_timeout)
    except (TargetUnreachable, TokenRefused) as exc:
        raise StartFailed(str(exc)) from None
    st.server_header = health.header("server") or None
    st.server_version = server_version(s.server_version, st.server_header)
    ledger = None
    if not s.bundled:  # the bundled server's database is temporary: nothing to recover
        try:
            ledger = Ledger.create(
                state_dir(s.state_dir),
                s.run_id,
                {
                    "target": base,
                    "started_at": st.started_at,
                    "suite_version": __version__,
                    "provisioning": "inventory" if s.inventory else "management",
                },
            )
        except LedgerError as exc:
            raise StartFailed(str(exc)) from None
    st.target = Target(
        s, base, management_token=token, on_finding=st.on_finding, ledger=ledger, current_test=st.current_test
    )
    st.target.throttle_observers.append(st.coverage.observe)
    st.target.refresh_keys()
    return st.target


def server_version(configured: str | None, header: str | None) -> str | None:
    """What the target runs: the configured value, else its Server header when that
    names a version (a bare 'uvicorn' or 'nginx' says nothing about the server's code,
    and would make every changed outcome look flaky to `leasecheck diff`)."""
    if configured:
        return configured
    if header and any(c.isdigit() for c in header):
        return header
    return None


def plan_lines(s: Settings) -> list[str]:
    """What this run will send, and how gently: said before the first request."""
    reduced = s.concurrency < DEFAULT_CONCURRENCY
    return [
        f"leasecheck run {s.run_id}: concurrency scenarios send up to {s.concurrency} simultaneous requests"
        + (f" (reduced from the default {DEFAULT_CONCURRENCY})" if reduced else ""),
        "leasecheck rate: "
        + (f"at most {s.max_rps:g} requests/s on average" if s.max_rps else "no cap")
        + f"; 429 answers are waited out (Retry-After), at most {s.rate_limit_budget:g} s in all",
    ]
