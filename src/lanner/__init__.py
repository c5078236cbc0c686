"""Lanner: Kestra-style flows, run anywhere Python runs."""

__version__ = "0.1.0"
