"""Onboarding API tests keep their automatic backups in the test's own folder, never in the working directory
(each module using the backend says `pytestmark = pytest.mark.usefixtures("backups_in_tmp")`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Backend


@pytest.fixture
def backups_in_tmp(backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "backups"
    monkeypatch.setattr(backend.settings, "backup_dir", str(folder))
    return folder
