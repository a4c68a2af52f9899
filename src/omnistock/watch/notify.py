"""Notifiers (where alerts go: a webhook, a DingTalk/WeCom/Feishu robot, Slack, e-mail), their routes (which
alert kinds, channels and locations each one takes), and queueing notifications for the background sender."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from omnistock.config import Settings
from omnistock.domain.access import Principal
from omnistock.errors import Conflict, Invalid, NotFound
from omnistock.services import audit, secrets
from omnistock.services.catalogue import check_code
from omnistock.services.lookup import channel_by_code, location_by_code
from omnistock.store.tables import Channel, Location
from omnistock.store.types import utcnow
from omnistock.watch.tables import Alert, Notification, Notifier
from omnistock.watch.urlguard import check_host, check_url

# Set when a transaction that queued notifications commits: the sender in this process wakes at once.
SENDER_WAKE = threading.Event()
_WAKE_KEY = "omnistock_watch_wake"
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebhookSettings(_Settings):
    url: Url
    secret: str | None = Field(default=None, max_length=500)


class RobotSettings(_Settings):
    """A chat robot: the full webhook URL (with its token), an optional signing secret, its message limit."""

    url: Url
    secret: str | None = Field(default=None, max_length=500)
    per_minute: int = Field(default=20, ge=1, le=600)


class EmailSettings(_Settings):
    to: list[Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$")]] = Field(min_length=1, max_length=50)
    sender: str | None = Field(default=None, max_length=200)  # default OMNISTOCK_SMTP_FROM
    host: str | None = Field(default=None, max_length=200)  # default OMNISTOCK_SMTP_HOST
    port: int | None = Field(default=None, ge=1, le=65535)
    username: str | None = Field(default=None, max_length=200)
    password: str | None = Field(default=None, max_length=500)
    starttls: bool = False
    per_minute: int = Field(default=20, ge=1, le=600)


# kind -> (settings model, fields sealed at rest). A robot's URL carries its token: it is a secret too.
KINDS: dict[str, tuple[type[_Settings], frozenset[str]]] = {
    "webhook": (WebhookSettings, frozenset({"secret"})),
    "dingtalk": (RobotSettings, frozenset({"url", "secret"})),
    "wecom": (RobotSettings, frozenset({"url", "secret"})),
    "feishu": (RobotSettings, frozenset({"url", "secret"})),
    "slack": (RobotSettings, frozenset({"url", "secret"})),
    "email": (EmailSettings, frozenset({"password"})),
}


def validate(kind: str, settings: dict[str, Any], config: Settings) -> dict[str, Any]:
    if kind not in KINDS:
        raise Invalid(f"unknown notifier kind {kind!r}; one of: {', '.join(KINDS)}", field="kind")
    try:
        model = KINDS[kind][0].model_validate(settings)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "settings"
        message = "is required" if err["type"] == "missing" else err["msg"]
        raise Invalid(f"{kind} settings: {key} {message}", field=f"settings.{key}") from exc
    clean = model.model_dump(mode="json", exclude_none=True)
    if "url" in clean:
        check_url(clean["url"], config.notify_allow_private)
    if kind == "email":
        host = clean.get("host") or config.smtp_host
        if not host:
            raise Invalid("email needs settings.host or OMNISTOCK_SMTP_HOST", field="settings.host")
        check_host(host, config.notify_allow_private, field="settings.host")
    return clean


def check_routes(session: Session, routes: dict[str, Any] | None) -> dict[str, Any] | None:
    """Routes name alert kinds (and `report` for the weekly report), channels and locations that exist."""
    from omnistock.watch.rulebook import kinds, known

    if not routes:
        return None
    for kind in routes.get("kinds") or []:
        if not known(kind):
            raise Invalid(f"unknown alert kind {kind!r}; one of: {', '.join(kinds())}", field="routes.kinds")
    for code in routes.get("channels") or []:
        channel_by_code(session, code, field="routes.channels")
    for code in routes.get("locations") or []:
        location_by_code(session, code, field="routes.locations")
    return {k: list(v) for k, v in routes.items() if v}


def create_notifier(session: Session, config: Settings, principal: Principal, *, code: str, kind: str,
                    settings: dict[str, Any], routes: dict[str, Any] | None) -> Notifier:
    code = check_code(code)
    if session.scalar(select(Notifier.id).where(Notifier.code == code)) is not None:
        raise Conflict(f"notifier {code!r} exists already", field="code")
    clean = validate(kind, settings, config)
    notifier = Notifier(code=code, kind=kind, settings=secrets.seal(config, clean, KINDS[kind][1]),
                        routes=check_routes(session, routes), enabled=True, created_at=utcnow())
    session.add(notifier)
    session.flush()
    audit.record(session, actor=principal.name, action="notifier.create", entity=f"notifier:{code}",
                 after={"kind": kind, "settings": secrets.masked(notifier.settings), "routes": notifier.routes})
    return notifier


def notifier_by_code(session: Session, code: str) -> Notifier:
    found = session.scalar(select(Notifier).where(Notifier.code == code))
    if found is None:
        raise NotFound(f"no notifier {code!r}", field="code")
    return found


def delete_notifier(session: Session, code: str, principal: Principal) -> None:
    notifier = notifier_by_code(session, code)
    notifier.enabled = False
    audit.record(session, actor=principal.name, action="notifier.disable", entity=f"notifier:{code}",
                 before={"enabled": True}, after={"enabled": False})


def notifier_view(n: Notifier) -> dict[str, Any]:
    return {"id": n.id, "code": n.code, "kind": n.kind, "settings": secrets.masked(n.settings), "routes": n.routes,
            "enabled": n.enabled}


def routed(routes: dict[str, Any] | None, kind: str, channel: str | None, location: str | None) -> bool:
    """Whether a notifier takes an alert of this kind, channel and location (a store manager's notifier names
    their store's location or channels). The weekly report goes to notifiers without a channel or location
    filter that take every kind or name `report`."""
    if not routes:
        return True
    kinds = routes.get("kinds")
    if kinds and kind not in kinds:
        return False
    channels, locations = routes.get("channels"), routes.get("locations")
    if not channels and not locations:
        return True
    return bool((channels and channel in channels) or (locations and location in locations))


def _where(session: Session, alert: Alert) -> tuple[str | None, str | None]:
    channel = session.get(Channel, alert.channel_id) if alert.channel_id else None
    location = session.get(Location, alert.location_id).code if alert.location_id else None  # type: ignore[union-attr]
    if location is None and channel is not None and channel.kind == "feed":
        location = (channel.settings or {}).get("location")  # a store's feed: its alerts are the store's
    return (channel.code if channel else None), location


def enqueue_alert(session: Session, alert: Alert, now: datetime) -> int:
    """Queue the alert for every enabled notifier routed for it; the message is built when it is sent."""
    session.flush()
    channel, location = _where(session, alert)
    queued = 0
    for notifier in session.scalars(select(Notifier).where(Notifier.enabled.is_(True)).order_by(Notifier.id)):
        if routed(notifier.routes, alert.kind, channel, location):
            session.add(Notification(notifier_id=notifier.id, alert_id=alert.id, subject=alert.message[:200],
                                     payload={}, status="pending", attempts=0, next_attempt_at=now, created_at=now))
            queued += 1
    alert.notified_at = now
    if queued:
        wake_after_commit(session)
    return queued


def enqueue_other(session: Session, notifier: Notifier, subject: str, payload: dict[str, Any]) -> Notification:
    """Queue a message that is not an alert (the weekly report, a test message) for one notifier."""
    now = utcnow()
    row = Notification(notifier_id=notifier.id, alert_id=None, subject=subject[:200], payload=payload,
                       status="pending", attempts=0, next_attempt_at=now, created_at=now)
    session.add(row)
    wake_after_commit(session)
    return row


def report_notifiers(session: Session) -> list[Notifier]:
    return [n for n in session.scalars(select(Notifier).where(Notifier.enabled.is_(True)).order_by(Notifier.id))
            if routed(n.routes, "report", None, None) and not (n.routes or {}).get("channels")
            and not (n.routes or {}).get("locations")]


def wake_after_commit(session: Session) -> None:
    if not session.info.get(_WAKE_KEY):
        session.info[_WAKE_KEY] = True
        event.listen(session, "after_commit", _wake, once=True)


def _wake(session: Session) -> None:
    session.info.pop(_WAKE_KEY, None)
    SENDER_WAKE.set()
