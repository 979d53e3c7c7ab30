"""Security tests run against the sandbox over real HTTP with the scenario fixtures (``sandbox``,
``app_factory``; ``mp``: the МеталПром portal with the app installed and both 1C bases connected)."""

from tests.scenarios.conftest import app_factory, sandbox  # noqa: F401  (fixtures)
from tests.scenarios.sync_1c.conftest import mp  # noqa: F401  (fixture)
