"""Apply and inspect migrations (Alembic) without an alembic.ini: the scripts ship inside the package.

Each feature (care, money, onboarding, ...) keeps its own branch of revisions starting from the core's
`0001`, so features can grow their tables independently; `upgrade` applies every head."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema (idempotent)."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


def pending(engine: Engine) -> bool:
    """True when the database is behind the newest migration: some head is not yet applied. The version table
    alone does not say so: Alembic drops a branch's head from it once a revision that `depends_on` it is
    applied (0007_watch depends on 0002_sync), so applied means reachable from the recorded heads through
    down revisions and dependencies."""
    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    return not set(script.get_heads()) <= applied(script, current)


def applied(script: ScriptDirectory, current: Iterable[str]) -> set[str]:
    """Every revision implied by the recorded heads (each head, its ancestors and what they depend on)."""
    seen: set[str] = set()
    todo = list(current)
    while todo:
        rev = todo.pop()
        if rev in seen:
            continue
        seen.add(rev)
        found = script.get_revision(rev)
        if found is None:
            continue
        for link in (found.down_revision, found.dependencies):
            if isinstance(link, str):
                todo.append(link)
            elif link:
                todo.extend(link)
    return seen
