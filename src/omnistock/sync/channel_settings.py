"""Settings of the channel kinds that have no adapter (a feed names the location its counts are for), and the
checks of settings that need the database (the location must exist)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy.orm import Session

from omnistock.services.lookup import location_by_code


class FeedSettings(BaseModel):
    """A store's or distributor's feed: its counts are stock at `location`; its sales sold from there."""

    model_config = ConfigDict(extra="forbid")

    location: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


# Kinds without an adapter whose settings still have a shape; `manual` takes any settings.
PASSIVE_SETTINGS: dict[str, type[BaseModel]] = {"feed": FeedSettings}


def check_references(session: Session, kind: str, settings: dict[str, Any]) -> None:
    """Refuse settings that name something that does not exist (a feed's location)."""
    if kind == "feed":
        location_by_code(session, str(settings["location"]), field="settings.location")


def feed_location(settings: dict[str, Any]) -> str:
    return str(settings["location"])
