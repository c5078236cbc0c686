"""The pure execution core: no I/O, no clock, no randomness (DESIGN.md)."""
