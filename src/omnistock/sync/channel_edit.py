"""Changing a channel after it was connected: its name, on/off, its settings (re-validated, secrets sealed
again), and how often it is polled and fully re-synced. Every change is audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from omnistock.config import Settings
from omnistock.domain.access import Principal
from omnistock.errors import Invalid
from omnistock.services import audit, secrets
from omnistock.services.channels import validate_settings
from omnistock.services.lookup import channel_by_code
from omnistock.store.tables import Channel
from omnistock.sync import dirty
from omnistock.sync.channel_settings import check_references
from omnistock.sync.pusher import channel_state
from omnistock.sync.tables import ChannelSync, Listing

MAX_MINUTES = 7 * 24 * 60
MIN_MINUTES = 0.1  # six seconds: tighter than that is a busy loop against the platform


@dataclass(frozen=True)
class ChannelPatch:
    """Only the given fields change. `settings` is merged into the stored ones: a key with a value replaces
    it, a key with null removes it, and a key sent back with the mask the API shows keeps the stored secret."""

    name: str | None = None
    enabled: bool | None = None
    settings: dict[str, Any] | None = None


def update_channel(session: Session, config: Settings, code: str, patch: ChannelPatch,
                   principal: Principal) -> Channel:
    channel = channel_by_code(session, code, principal=principal)
    before = {"name": channel.name, "enabled": channel.enabled, "settings": secrets.masked(channel.settings)}
    if patch.name is not None:
        if not patch.name.strip():
            raise Invalid("name cannot be empty", field="name")
        channel.name = patch.name.strip()
    changed_keys: list[str] = []
    if patch.settings is not None:
        changed_keys = _apply_settings(session, config, channel, patch.settings)
    was_enabled = channel.enabled
    if patch.enabled is not None:
        channel.enabled = patch.enabled
    session.flush()
    if channel.enabled and (not was_enabled or changed_keys):
        # Back on, or pointed elsewhere: the platform may show anything by now, so push every listing.
        dirty.mark_listings(session, Listing.channel_id == channel.id)
    after = {"name": channel.name, "enabled": channel.enabled, "settings": secrets.masked(channel.settings),
             "changed_settings": changed_keys}
    audit.record(session, actor=principal.name, action="channel.update", entity=f"channel:{channel.code}",
                 before=before, after=after)
    return channel


def _apply_settings(session: Session, config: Settings, channel: Channel, given: dict[str, Any]) -> list[str]:
    """Merge, validate and seal; returns the keys whose value changed."""
    current = secrets.unseal(config, channel.settings)
    merged = dict(current)
    for key, value in given.items():
        if value is None:
            merged.pop(key, None)
        elif value == secrets.MASK:
            if key not in current:
                raise Invalid(f"settings.{key} has no stored value to keep; send the value itself",
                              field=f"settings.{key}")
        else:
            merged[key] = value
    clean, secret_fields = validate_settings(channel.kind, merged)
    check_references(session, channel.kind, clean)
    channel.settings = secrets.seal(config, clean, secret_fields)  # sealed again with the current key
    return sorted(k for k in set(clean) | set(current) if clean.get(k) != current.get(k))


def update_schedule(session: Session, code: str, principal: Principal, *, poll_minutes: float | None = None,
                    full_sync_minutes: float | None = None) -> ChannelSync:
    """How often orders are polled and every listing is re-pushed (the safety nets behind webhooks)."""
    channel = channel_by_code(session, code, principal=principal)
    for name, value in (("poll_minutes", poll_minutes), ("full_sync_minutes", full_sync_minutes)):
        if value is not None and (isinstance(value, bool) or not MIN_MINUTES <= value <= MAX_MINUTES):
            raise Invalid(f"{name} must be a number of minutes between {MIN_MINUTES} and {MAX_MINUTES}",
                          field=name)
    state = channel_state(session, channel.id)
    before = {"poll_minutes": state.poll_minutes, "full_sync_minutes": state.full_sync_minutes}
    if poll_minutes is not None:
        state.poll_minutes = poll_minutes
    if full_sync_minutes is not None:
        state.full_sync_minutes = full_sync_minutes
    session.flush()
    audit.record(session, actor=principal.name, action="channel.sync", entity=f"channel:{channel.code}",
                 before=before, after={"poll_minutes": state.poll_minutes,
                                       "full_sync_minutes": state.full_sync_minutes})
    return state
