"""Building a channel's adapter from its stored settings (secrets unsealed in memory only)."""

from __future__ import annotations

import threading
from typing import Any

from omnistock.channels.base import ChannelAdapter
from omnistock.channels.registry import PASSIVE_KINDS, adapter_class
from omnistock.config import Settings
from omnistock.services import secrets
from omnistock.store.tables import Channel

_cache: dict[tuple[int, str], ChannelAdapter] = {}
_lock = threading.Lock()


def has_adapter(channel: Channel) -> bool:
    return channel.kind not in PASSIVE_KINDS


def adapter_for(channel: Channel, settings: Settings) -> ChannelAdapter:
    """One adapter (and HTTP connection pool) per channel and settings version, reused across calls."""
    key = (channel.id, repr(sorted(channel.settings.items())))
    with _lock:
        adapter = _cache.get(key)
        if adapter is None:
            for old in [k for k in _cache if k[0] == channel.id]:
                _cache.pop(old).close()
            values: dict[str, Any] = secrets.unseal(settings, channel.settings)
            adapter = adapter_class(channel.kind)(values)
            _cache[key] = adapter
        return adapter


def forget_all() -> None:
    with _lock:
        for adapter in _cache.values():
            adapter.close()
        _cache.clear()
