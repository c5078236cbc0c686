"""Kestra's REST API over the store, as its official client `kestrapy` calls it.

Served by `lanner server` (`lanner.api.server`); nothing here is imported by
`lanner run`, so a cold run does not pay for FastAPI (docs/api.md).
"""
