"""The simulator's FastAPI app: the control API plus one router per platform module that exists."""

from __future__ import annotations

import importlib
import logging

from fastapi import FastAPI

from omnistock.channels.simulator.control import control_router
from omnistock.channels.simulator.state import SimRegistry

PLATFORM_MODULES = ["shopify", "woocommerce", "taobao", "jd", "pinduoduo", "douyin"]

log = logging.getLogger(__name__)


def available_platforms() -> list[str]:
    """The platform modules that can be imported (others may not be written yet)."""
    found = []
    for name in PLATFORM_MODULES:
        try:
            importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{name}":
                raise  # the module exists but is broken: say so instead of hiding the platform
            continue
        found.append(name)
    return found


def build_app(registry: SimRegistry) -> FastAPI:
    app = FastAPI(title="omnistock platform simulator", docs_url="/_sim/docs",
                  openapi_url="/_sim/openapi.json")
    app.state.registry = registry
    app.include_router(control_router(registry))
    for name in available_platforms():
        module = importlib.import_module(f"{__package__}.{name}")
        app.include_router(module.router(registry))
    log.debug("simulator platforms: %s", ", ".join(available_platforms()))
    return app
