"""Signing primitives that several platforms share (the "router" family: Taobao, JD, Pinduoduo).

Only the truly common pieces live here; each adapter composes them the way its platform documents.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping


def concat_sorted(params: Mapping[str, object], *, exclude: frozenset[str] = frozenset({"sign"})) -> str:
    """`name + value` of every parameter sorted by name, no separators (values unencoded)."""
    return "".join(f"{k}{params[k]}" for k in sorted(params) if k not in exclude and params[k] is not None)


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def hmac_hex(key: str, text: str, digest: str = "sha256") -> str:
    return hmac.new(key.encode("utf-8"), text.encode("utf-8"), digest).hexdigest()


def hmac_sha256_base64(key: bytes | str, message: bytes | str) -> str:
    """Base64 of HMAC-SHA256: Shopify, WooCommerce and omnistock's own webhook channel sign this way."""
    k = key.encode("utf-8") if isinstance(key, str) else key
    m = message.encode("utf-8") if isinstance(message, str) else message
    return base64.b64encode(hmac.new(k, m, hashlib.sha256).digest()).decode("ascii")


def same(a: str, b: str) -> bool:
    """Constant-time comparison for signatures."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
