"""Every setting has a description and a row in docs/configuration.md."""

from __future__ import annotations

from pathlib import Path

from omnistock.config import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_setting_is_described_and_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no description"
        assert f"`OMNISTOCK_{name.upper()}`" in text, f"OMNISTOCK_{name.upper()} is missing from {DOC.name}"
