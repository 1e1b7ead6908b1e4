"""The fault gallery: deliberately broken servers, and honest variants.

Each fault is the reference server with one named step overridden by a bug
a real server could ship (`faults/<area>.py`, one module per requirement
area); each honest variant makes another choice where the sources are silent
(`variants.py`). `registry.py` names them all; `matrix.py` proves the suite
catches every fault and passes every variant. The gallery depends on the
reference server, never the reverse (an import contract says so).
"""
