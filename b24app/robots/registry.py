"""All robots of the app: every module of this package that defines ``ROBOT``."""

from __future__ import annotations

import importlib
import pkgutil

from b24app.config import Config
from b24app.robots.base import Robot

_SKIP = {"base", "registry", "runner"}
_robots: dict[str, Robot] | None = None


def robots() -> dict[str, Robot]:
    global _robots
    if _robots is None:
        found: dict[str, Robot] = {}
        package = importlib.import_module("b24app.robots")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            if info.name in _SKIP:
                continue
            module = importlib.import_module(f"b24app.robots.{info.name}")
            robot = getattr(module, "ROBOT", None)
            if isinstance(robot, Robot):
                if robot.code in found:
                    raise RuntimeError(f"robot code used twice: {robot.code}")
                found[robot.code] = robot
        _robots = found
    return _robots


def handler_url(config: Config, code: str) -> str:
    return config.url(f"/robots/{code}")
