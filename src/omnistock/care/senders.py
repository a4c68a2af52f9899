"""Which sender delivers each channel: the settings row saved through the API, else the OMNISTOCK_SMTP_*,
OMNISTOCK_SMS_WEBHOOK_URL and OMNISTOCK_CHAT_WEBHOOK_URL settings. Passwords and secrets are sealed at rest."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from omnistock.care.outreach import EmailSender, Sender, WebhookSender
from omnistock.care.tables import CareSender
from omnistock.config import Settings
from omnistock.errors import Invalid
from omnistock.services import secrets
from omnistock.store.types import utcnow

KINDS = ("email", "sms", "chat")
_FIELDS = {"email": {"host", "port", "from", "username", "password", "starttls"}, "sms": {"url", "secret"},
           "chat": {"url", "secret"}}
_SECRET = frozenset({"password", "secret"})


def _from_settings(settings: Settings, kind: str) -> dict[str, Any] | None:
    if kind == "email":
        if not settings.smtp_host:
            return None
        return {"host": settings.smtp_host, "port": settings.smtp_port, "from": settings.smtp_from,
                "username": settings.smtp_username, "password": settings.smtp_password,
                "starttls": settings.smtp_starttls}
    url = settings.sms_webhook_url if kind == "sms" else settings.chat_webhook_url
    return {"url": url, "secret": settings.outreach_webhook_secret} if url else None


def _config(session: Session, settings: Settings, kind: str) -> dict[str, Any] | None:
    row = session.get(CareSender, kind)
    if row is not None:
        return secrets.unseal(settings, row.config) if row.enabled else None
    return _from_settings(settings, kind)


def sender_for(session: Session, settings: Settings, kind: str) -> Sender | None:
    """The sender for `kind`, or None when that channel is not set up."""
    config = _config(session, settings, kind)
    if config is None:
        return None
    if kind == "email":
        return EmailSender(host=config["host"], port=int(config.get("port") or 25),
                           sender=config.get("from") or f"omnistock@{config['host']}",
                           username=config.get("username"), password=config.get("password"),
                           starttls=bool(config.get("starttls")))
    return WebhookSender(url=config["url"], secret=config.get("secret"))


def configured(session: Session, settings: Settings) -> set[str]:
    return {kind for kind in KINDS if _config(session, settings, kind) is not None}


def _check(kind: str, config: dict[str, Any]) -> None:
    unknown = sorted(set(config) - _FIELDS[kind])
    if unknown:
        raise Invalid(f"unknown setting(s) for {kind}: {', '.join(unknown)}", field=f"config.{unknown[0]}")
    if kind == "email":
        if not isinstance(config.get("host"), str) or not config["host"]:
            raise Invalid("an e-mail sender needs a host", field="config.host")
        port = config.get("port", 25)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise Invalid("port is a whole number from 1 to 65535", field="config.port")
        if config.get("from") is not None and "@" not in str(config["from"]):
            raise Invalid("from must be an e-mail address", field="config.from")
    else:
        url = config.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise Invalid("url must be an http(s) URL", field="config.url")


def save_sender(session: Session, settings: Settings, kind: str, *, enabled: bool,
                config: dict[str, Any]) -> CareSender:
    if kind not in KINDS:
        raise Invalid(f"sender kind must be one of {', '.join(KINDS)}", field="kind")
    if enabled:
        _check(kind, config)
    row = session.get(CareSender, kind)
    if row is None:
        row = CareSender(kind=kind)
        session.add(row)
    row.enabled, row.config, row.updated_at = enabled, secrets.seal(settings, config, _SECRET), utcnow()
    session.flush()
    return row


def senders_view(session: Session, settings: Settings) -> list[dict[str, Any]]:
    out = []
    for kind in KINDS:
        row = session.get(CareSender, kind)
        if row is not None:
            out.append({"kind": kind, "source": "api", "enabled": row.enabled, "config": secrets.masked(row.config)})
            continue
        config = _from_settings(settings, kind)
        shown = {k: (secrets.MASK if k in _SECRET and v else v) for k, v in (config or {}).items()}
        out.append({"kind": kind, "source": "settings", "enabled": config is not None, "config": shown})
    return out
