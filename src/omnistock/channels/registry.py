"""Channel kinds and their adapter classes, loaded lazily so that one broken adapter cannot break the rest."""

from __future__ import annotations

import importlib
from typing import Any

from omnistock.errors import Invalid

# kind -> "module:Class". `manual` and `feed` have no adapter: nothing is pushed to them over an API.
ADAPTERS: dict[str, str] = {
    "shopify": "omnistock.channels.shopify:ShopifyAdapter",
    "woocommerce": "omnistock.channels.woocommerce:WooCommerceAdapter",
    "taobao": "omnistock.channels.taobao:TaobaoAdapter",
    "jd": "omnistock.channels.jd:JDAdapter",
    "pinduoduo": "omnistock.channels.pinduoduo:PinduoduoAdapter",
    "douyin": "omnistock.channels.douyin:DouyinAdapter",
    "webhook": "omnistock.channels.webhook:WebhookChannelAdapter",
}
PASSIVE_KINDS = ("manual", "feed")


def kinds() -> list[str]:
    return [*PASSIVE_KINDS, *ADAPTERS]


def adapter_class(kind: str) -> Any:
    """The adapter class for a platform kind; Invalid (naming `kind`) for an unknown one."""
    target = ADAPTERS.get(kind)
    if target is None:
        raise Invalid(f"unknown channel kind {kind!r}; one of: {', '.join(kinds())}", field="kind")
    module, _, name = target.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise Invalid(f"channel kind {kind!r} is not available in this build ({exc})", field="kind") from exc
