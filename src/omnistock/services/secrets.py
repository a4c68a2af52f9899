"""Secrets at rest: channel credentials are encrypted with a key from OMNISTOCK_SECRET_KEY (generated and kept
beside the SQLite file for the embedded default), and never returned by the API."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.engine import make_url

from omnistock.config import Settings
from omnistock.errors import Invalid

MARK = "$enc"
MASK = "••••••"


def secret_key(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        raise Invalid("set OMNISTOCK_SECRET_KEY: channel secrets are encrypted with it", field="settings")
    db_file = Path(url.database or "omnistock.db")
    key_file = db_file.with_name(db_file.name + ".key")
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(32))
    return key_file.read_text().strip()


def _fernet(settings: Settings) -> Fernet:
    digest = hashlib.sha256(secret_key(settings).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(settings: Settings, values: dict[str, Any], secret_fields: frozenset[str]) -> dict[str, Any]:
    f = _fernet(settings) if any(k in values for k in secret_fields) else None
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in secret_fields and value is not None and f is not None:
            out[key] = {MARK: f.encrypt(str(value).encode()).decode()}
        else:
            out[key] = value
    return out


def unseal(settings: Settings, stored: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    f: Fernet | None = None
    for key, value in stored.items():
        if isinstance(value, dict) and set(value) == {MARK}:
            f = f or _fernet(settings)
            try:
                out[key] = f.decrypt(value[MARK].encode()).decode()
            except InvalidToken as exc:
                raise Invalid(f"cannot decrypt setting {key!r}: OMNISTOCK_SECRET_KEY changed?", field=key) from exc
        else:
            out[key] = value
    return out


def masked(stored: dict[str, Any]) -> dict[str, Any]:
    return {k: (MASK if isinstance(v, dict) and set(v) == {MARK} else v) for k, v in stored.items()}
