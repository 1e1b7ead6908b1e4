"""The init listener leaves gevent's cached clock current, so --run-time is not cut short."""

from __future__ import annotations

import subprocess
import sys
import textwrap

#: Run in a process of its own: importing locust monkey-patches the interpreter.
SCRIPT = textwrap.dedent(
    """
    import sys, time
    import gevent
    from locust.env import Environment
    from leasecheck.load.runtime import hooks

    def slow(value):  # a warm-up that takes this long on a busy machine
        end = time.perf_counter() + float(sys.argv[1])
        while time.perf_counter() < end:
            pass
        return True

    hooks.is_rfc3339 = slow
    loop = gevent.get_hub().loop
    loop.update_now()
    if sys.argv[2] == "listener":
        hooks._on_init(Environment(events=hooks.events), runner=None)
    else:
        slow(None)  # the same work without the listener: the cached time goes stale
    # A timer armed now, as locust arms --run-time right after the init listeners
    # (spawn_later, which unlike gevent.sleep does not refresh the cached time).
    armed = time.perf_counter()
    fired = gevent.spawn_later(0.3, time.perf_counter)
    print(round(fired.get() - armed, 3))
    """
)


def slept(mode: str, warm_up: float = 0.6) -> float:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(warm_up), mode], capture_output=True, text=True, check=True, timeout=60
    )
    return float(out.stdout.strip().splitlines()[-1])


def test_a_timer_armed_after_init_waits_its_whole_time():
    # The same stall without the listener shows what it guards against: a timer armed
    # from the stale cached clock fires at once (0.3 s requested, 0.6 s stale). Without
    # that, the listener's case below would pass whatever the listener did.
    assert slept("bare") < 0.1
    assert slept("listener") >= 0.29
