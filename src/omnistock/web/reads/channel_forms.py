"""The connect form of each channel kind, built from the kind's settings model (the adapter's
`settings_model`, or the settings of a kind without adapter): one input per field, secrets as passwords."""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from omnistock.channels.registry import PASSIVE_KINDS, adapter_class
from omnistock.sync.channel_settings import PASSIVE_SETTINGS


@dataclass(frozen=True)
class SettingField:
    name: str
    required: bool
    secret: bool
    input: str  # text | password | number | checkbox | select | url
    choices: tuple[str, ...]
    default: str
    description: str


def _model(kind: str) -> tuple[type[BaseModel] | None, frozenset[str]]:
    if kind in PASSIVE_KINDS:
        return PASSIVE_SETTINGS.get(kind), frozenset()
    cls = adapter_class(kind)
    return cls.settings_model, frozenset(cls.secret_fields)


def _plain(annotation: Any) -> Any:
    """The annotation without `| None`."""
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


def _input(annotation: Any, secret: bool, name: str) -> tuple[str, tuple[str, ...]]:
    plain = _plain(annotation)
    if secret:
        return "password", ()
    if get_origin(plain) is Literal:
        return "select", tuple(str(a) for a in get_args(plain))
    if plain is bool:
        return "checkbox", ()
    if plain is int:
        return "number", ()
    return ("url" if name.endswith("url") else "text"), ()


def settings_fields(kind: str) -> list[SettingField]:
    """The fields to fill in to connect a channel of this kind (Invalid for an unknown kind)."""
    model, secrets = _model(kind)
    if model is None:
        return []
    out = []
    for name, info in model.model_fields.items():
        kind_of_input, choices = _input(info.annotation, name in secrets, name)
        default = "" if info.is_required() or info.default is None else str(info.default)
        out.append(SettingField(name, info.is_required(), name in secrets, kind_of_input, choices, default,
                                info.description or ""))
    return out


def settings_from_form(fields: list[SettingField], values: dict[str, str]) -> dict[str, Any]:
    """The settings a form gave: empty optional fields are left out (their defaults apply); checkboxes are
    true when ticked; other values go as typed (the settings model checks and converts them)."""
    out: dict[str, Any] = {}
    for f in fields:
        raw = values.get(f"settings.{f.name}", "").strip()
        if f.input == "checkbox":
            out[f.name] = bool(raw)
        elif raw:
            out[f.name] = raw
    return out
