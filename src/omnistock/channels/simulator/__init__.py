"""Fake platforms over real HTTP on loopback: the same wire formats, signatures, throttles and webhooks
as Shopify, WooCommerce, Taobao, JD, Pinduoduo and Douyin, for tests, demos and benchmarks.

Self-contained on purpose: nothing here imports omnistock's adapters, so a wrong adapter fails against it.
"""

from omnistock.channels.simulator.server import Simulator
from omnistock.channels.simulator.state import (
    Faults,
    Gate,
    GateKind,
    SimAfterSale,
    SimCall,
    SimListing,
    SimOrder,
    SimOrderLine,
    SimRegistry,
    SimShop,
    WebhookConfig,
)

__all__ = [
    "Faults", "Gate", "GateKind", "SimAfterSale", "SimCall", "SimListing", "SimOrder", "SimOrderLine",
    "SimRegistry", "SimShop", "Simulator", "WebhookConfig",
]
