"""What runs inside locust: the lease user, its recorder, the run plan, open-loop arrivals.

Only locustfiles import this package (it imports locust, which monkey-patches
the process it lives in); the CLI, the runner and the judge never do.
"""
