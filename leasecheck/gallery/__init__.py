"""The fault gallery: deliberately broken servers, and honest variants.

Each fault is the reference server with one named step overridden by a bug
a real server could ship; each honest variant makes another choice where the
sources are silent. The gallery depends on the reference server, never the
reverse (an import contract says so).
"""
