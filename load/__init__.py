"""Load profiles: locust traffic judged by the shared history checker.

The layers and where a change goes: `load/README.md` (the tour). A profile is
a folder in `profiles/`, found by `profiles.discover()`.
"""
