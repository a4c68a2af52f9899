"""Settings from the environment (OMNISTOCK_*): the one place configuration is read."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMNISTOCK_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///omnistock.db",
        description="SQLAlchemy URL. Default: a SQLite file in the working directory; "
        "use postgresql+psycopg://user@host/db for PostgreSQL.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Key that encrypts channel secrets at rest. Generated and kept beside the SQLite file "
        "when not set (embedded default); required for PostgreSQL.",
    )
    timezone: str = Field(default="Asia/Shanghai", description="The merchant's time zone for display.")
    max_body_bytes: int = Field(default=1_048_576, description="Largest request body the API accepts.")
    db_pool_size: int = Field(default=20, description="Connections per process (PostgreSQL).")
    sqlite_busy_timeout_ms: int = Field(default=30_000, description="How long a SQLite writer waits for the lock.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone, which pydantic reports with the setting's name
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
