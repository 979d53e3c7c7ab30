"""The loopback stack of the benchmarks lives in :mod:`b24app.devstack` (the soak uses it too);
this module keeps the old import path ``from bench.stack import Stack``."""

from b24app.devstack import SCOPES, Stack, free_port

__all__ = ["SCOPES", "Stack", "free_port"]
