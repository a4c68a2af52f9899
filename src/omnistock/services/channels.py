"""Channels: a shop on one platform (or a manual/feed source), its settings validated per kind and its
secrets sealed."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.channels.registry import PASSIVE_KINDS, adapter_class
from omnistock.config import Settings
from omnistock.errors import Conflict, Invalid
from omnistock.services import audit, secrets
from omnistock.services.catalogue import check_code
from omnistock.store.tables import Channel
from omnistock.sync.channel_settings import PASSIVE_SETTINGS, check_references


def validate_settings(kind: str, settings: dict[str, Any]) -> tuple[dict[str, Any], frozenset[str]]:
    """Check settings against the kind's model. The error names every missing or bad key at once."""
    if kind in PASSIVE_KINDS:
        if kind not in PASSIVE_SETTINGS:
            return dict(settings), frozenset()
        model_cls, secret_fields = PASSIVE_SETTINGS[kind], frozenset[str]()
    else:
        cls = adapter_class(kind)
        model_cls, secret_fields = cls.settings_model, frozenset(cls.secret_fields)
    try:
        model = model_cls.model_validate(settings)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "settings"
            msg = "is required" if err["type"] == "missing" else err["msg"]
            if err["type"] == "extra_forbidden":
                # Most often a typo of a known key: name the keys there are, so the right one is obvious.
                msg = f"is not a {kind} setting; known: {', '.join(model_cls.model_fields)}"
            errors.append({"field": f"settings.{key}", "message": f"{key} {msg}"})
        names = ", ".join(e["field"].removeprefix("settings.") for e in errors)
        raise Invalid(f"{kind} settings are incomplete or wrong: {names}", field=errors[0]["field"],
                      errors=errors) from exc
    return model.model_dump(mode="json", exclude_none=True), secret_fields


def create_channel(session: Session, config: Settings, *, code: str, kind: str, name: str | None,
                   settings: dict[str, Any] | None, actor: str) -> Channel:
    code = check_code(code)
    if session.scalar(select(Channel.id).where(Channel.code == code)) is not None:
        raise Conflict(f"channel {code!r} exists already", field="code")
    clean, secret_fields = validate_settings(kind, settings or {})
    check_references(session, kind, clean)
    channel = Channel(code=code, kind=kind, name=(name or code).strip(),
                      settings=secrets.seal(config, clean, secret_fields))
    session.add(channel)
    session.flush()
    audit.record(session, actor=actor, action="channel.create", entity=f"channel:{code}",
                 after={"code": code, "kind": kind, "name": channel.name,
                        "settings": secrets.masked(channel.settings)})
    return channel


def list_channels(session: Session) -> list[Channel]:
    return list(session.scalars(select(Channel).order_by(Channel.code)))
