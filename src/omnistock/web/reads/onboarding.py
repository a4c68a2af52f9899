"""Reads for the onboarding pages: the imports applied so far, the choices of the import forms, and every
channel with its rollout mode. One query each, whatever the number of rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.onboarding.tables import ImportRun
from omnistock.store.tables import Channel
from omnistock.sync.tables import ChannelSync

RECENT_RUNS = 10


def recent_runs(session: Session, limit: int = RECENT_RUNS) -> list[ImportRun]:
    return list(session.scalars(select(ImportRun).order_by(ImportRun.id.desc()).limit(limit)))


def channel_choices(session: Session) -> list[tuple[str, str]]:
    """(code, "code · name") of every channel, for the listing import's channel choice."""
    rows = session.execute(select(Channel.code, Channel.name).order_by(Channel.code))
    return [(code, f"{code} · {name}" if name and name != code else code) for code, name in rows]


@dataclass(frozen=True)
class ChannelMode:
    code: str
    name: str
    kind: str
    enabled: bool
    mode: str
    pilot_skus: list[str]
    mode_since: datetime | None


def channel_modes(session: Session) -> list[ChannelMode]:
    """Every channel with its rollout mode (live until a mode was ever set)."""
    rows = session.execute(select(Channel.code, Channel.name, Channel.kind, Channel.enabled, ChannelSync.mode,
                                  ChannelSync.pilot_skus, ChannelSync.mode_since)
                           .outerjoin(ChannelSync, ChannelSync.channel_id == Channel.id).order_by(Channel.code))
    return [ChannelMode(code, name or code, kind, enabled, mode or "live", list(pilot or []), since)
            for code, name, kind, enabled, mode, pilot, since in rows]
