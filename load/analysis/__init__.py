"""Measurement over a finished run: merged shards, windows, seats in use, the generator's health, SLOs.

Nothing here knows one profile from another.
"""
