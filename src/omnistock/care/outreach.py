"""Pluggable senders of messages to customers: SMTP e-mail, and SMS or platform chat through a webhook.
A sender knows its wire, nothing of our tables; it never raises for a failed send, it reports it.

Webhook format (SMS and chat), POSTed as JSON with Content-Type application/json:

    {"type": "care.message", "version": 1, "channel": "sms" | "chat",
     "message_id": 41, "case_id": 7, "locale": "zh",
     "to": {"name": "王小明", "phone": "+8613800000000", "email": null, "platform": "jd", "order": "JD-1001"},
     "subject": "关于您的订单 JD-1001", "text": "..."}

Headers: X-Omnistock-Event: care.message; X-Omnistock-Delivery: <message_id> (the same on a retry, so
a receiver can drop duplicates); X-Omnistock-Signature: sha256=<hex HMAC-SHA256 of the raw body> when a
secret is set. Any 2xx answer means delivered; anything else, or no answer within the timeout, failed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, Protocol

import httpx

TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Outbound:
    """One message to one customer, as a sender needs it."""

    message_id: int
    case_id: int
    channel: str
    subject: str
    text: str
    locale: str
    name: str | None
    email: str | None
    phone: str | None
    platform: str | None
    order: str | None

    @property
    def recipient(self) -> str:
        if self.channel == "email":
            return self.email or ""
        if self.channel == "sms":
            return self.phone or ""
        return f"{self.platform or ''}:{self.order or ''}"


@dataclass(frozen=True)
class SendResult:
    ok: bool
    detail: str
    status_code: int | None = None


class Sender(Protocol):
    def send(self, message: Outbound) -> SendResult: ...


@dataclass(frozen=True)
class EmailSender:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = TIMEOUT_S

    def send(self, message: Outbound) -> SendResult:
        if not message.email:
            return SendResult(False, "the customer has no e-mail address")
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = formataddr((message.name or "", message.email))
        mail["Subject"] = message.subject
        mail["Message-ID"] = make_msgid(f"case{message.case_id}.msg{message.message_id}")
        mail["X-Omnistock-Case"] = str(message.case_id)
        # base64 keeps Chinese text 7-bit clean for any relay (no 8BITMIME needed).
        mail.set_content(message.text, charset="utf-8", cte="base64")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(mail)
        except (smtplib.SMTPException, OSError) as exc:
            code = getattr(exc, "smtp_code", None)
            return SendResult(False, f"{type(exc).__name__}: {exc}", code if isinstance(code, int) else None)
        if refused:
            return SendResult(False, f"refused: {refused}")
        return SendResult(True, f"accepted by {self.host}:{self.port}", 250)


def webhook_body(message: Outbound) -> dict[str, Any]:
    return {"type": "care.message", "version": 1, "channel": message.channel, "message_id": message.message_id,
            "case_id": message.case_id, "locale": message.locale,
            "to": {"name": message.name, "phone": message.phone, "email": message.email,
                   "platform": message.platform, "order": message.order},
            "subject": message.subject, "text": message.text}


def signature(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class WebhookSender:
    url: str
    secret: str | None = None
    timeout: float = TIMEOUT_S

    def send(self, message: Outbound) -> SendResult:
        if message.channel == "sms" and not message.phone:
            return SendResult(False, "the customer has no phone number")
        raw = json.dumps(webhook_body(message), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "X-Omnistock-Event": "care.message",
                   "X-Omnistock-Delivery": str(message.message_id)}
        if self.secret:
            headers["X-Omnistock-Signature"] = signature(self.secret, raw)
        try:
            response = httpx.post(self.url, content=raw, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            return SendResult(False, f"{type(exc).__name__}: {exc}")
        text = response.text[:500]
        return SendResult(response.is_success, f"HTTP {response.status_code} {text}".strip(), response.status_code)
