"""What each notifier receives, byte for byte: the generic webhook's signed JSON, and the chat robots' message
bodies and signatures (DingTalk, WeCom, Feishu/Lark, Slack) as /work/shared/CHANNEL_APIS.md describes them.
Pure functions: the sender adds the HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from omnistock.channels.signing import hmac_sha256_base64

SIGNATURE_HEADER = "X-Omnistock-Signature"
ICONS = {"critical": "🔴", "warning": "🟠", "info": "🔵"}


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    headers: dict[str, str]


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def webhook(url: str, payload: dict[str, Any], secret: str | None, event: str = "alert") -> Request:
    """One alert (or report) as JSON, signed like omnistock's webhook channel: base64 HMAC-SHA256 of the raw
    body with the notifier's secret, in X-Omnistock-Signature."""
    body = _json(payload)
    headers = {"Content-Type": "application/json", "X-Omnistock-Event": event}
    if secret:
        headers[SIGNATURE_HEADER] = hmac_sha256_base64(secret, body)
    return Request(url, body, headers)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """URL-encoded base64 of HMAC-SHA256(key=secret, "{timestamp_ms}\\n{secret}")."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def dingtalk(url: str, title: str, text: str, secret: str | None, timestamp_ms: int) -> Request:
    if secret:
        joiner = "&" if "?" in url else "?"
        url = f"{url}{joiner}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"
    body = _json({"msgtype": "markdown", "markdown": {"title": title[:64], "text": text}})
    return Request(url, body, {"Content-Type": "application/json"})


def wecom(url: str, text: str) -> Request:
    # WeCom caps a markdown message at 4096 bytes: cut on a character boundary below it.
    content = text.encode("utf-8")[:4000].decode("utf-8", "ignore")
    return Request(url, _json({"msgtype": "markdown", "markdown": {"content": content}}),
                   {"Content-Type": "application/json"})


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Base64 of HMAC-SHA256 keyed with "{timestamp}\\n{secret}" over an empty message (Feishu's own rule)."""
    return base64.b64encode(hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()


def feishu(url: str, text: str, secret: str | None, timestamp_s: int) -> Request:
    payload: dict[str, Any] = {"msg_type": "text", "content": {"text": text}}
    if secret:
        payload = {"timestamp": str(timestamp_s), "sign": feishu_sign(secret, timestamp_s), **payload}
    return Request(url, _json(payload), {"Content-Type": "application/json"})


def slack(url: str, text: str) -> Request:
    return Request(url, _json({"text": text}), {"Content-Type": "application/json"})


def robot_answer_ok(kind: str, status: int, text: str) -> tuple[bool, str]:
    """Whether a robot took the message: HTTP 2xx and its own success code in the body."""
    if not 200 <= status < 300:
        return False, f"HTTP {status}: {text[:200]}"
    if kind == "slack":
        return (text.strip() == "ok" or not text.strip()), text[:200]
    try:
        answer = json.loads(text or "{}")
    except ValueError:
        return False, f"not JSON: {text[:200]}"
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0))) if isinstance(answer, dict) else 0
    return code == 0, "" if code == 0 else f"code {code}: {answer.get('errmsg') or answer.get('msg')}"


# --- message text --------------------------------------------------------------------------------------------


def alert_line(alert: dict[str, Any]) -> str:
    where = " · ".join(str(v) for v in (alert.get("channel"), alert.get("sku")) if v)
    icon = ICONS.get(str(alert.get("severity")), "")
    return f"{icon} **{alert['kind']}**{f' ({where})' if where else ''}: {alert['message']}"


def alerts_markdown(alerts: Sequence[dict[str, Any]]) -> tuple[str, str]:
    """(title, markdown text) for one or several alerts grouped into one chat message."""
    if len(alerts) == 1:
        title = f"omnistock: {alerts[0]['kind']}"
    else:
        title = f"omnistock: {len(alerts)} alerts"
    lines = [f"### {title}", *(f"- {alert_line(a)}" for a in alerts)]
    return title, "\n".join(lines)


def plain(markdown: str) -> str:
    """Markdown made readable where a robot shows plain text (Feishu text, e-mail)."""
    return markdown.replace("**", "").replace("### ", "")
