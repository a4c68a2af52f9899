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
    backup_dir: str | None = Field(default=None, description="Where automatic backups (before every import) go. "
                                   "Default: backups/ next to the SQLite file, or ./backups for PostgreSQL.")
    expiry_margin_days: int = Field(
        default=0, ge=0, description="Days before its expiry date a batch is taken off sale (0: it is sold up to "
        "and including its expiry day, in OMNISTOCK_TIMEZONE).")
    # --- sync engine ---
    sync_lease_seconds: float = Field(
        default=30.0, gt=0, description="How long a worker owns the listings it is pushing; a worker that dies "
        "mid-push releases them when this runs out (keep it above the longest platform call).")
    sync_batch: int = Field(default=100, ge=1, description="Listings a worker claims per round and channel.")
    rollout_compare_minutes: float = Field(
        default=30.0, gt=0, description="How often channels in shadow mode are compared with what their platform "
        "shows, by themselves (the first time a period after the switch to shadow); differences go into the "
        "pilot report (docs/onboarding.md).")
    base_currency: str = Field(default="CNY", pattern="^[A-Z]{3}$",
                               description="ISO 4217 code of the currency costs, valuation and profit are kept in. "
                               "Choose it before the first receipt: recorded costs are not converted.")
    # --- complaint desk (care); senders set through /api/v1/care/senders win over these ---
    care_locale: str = Field(default="zh", pattern="^(zh|en)$",
                             description="Language (zh or en) of messages drafted to customers when a case names none.")
    care_currency: str = Field(default="CNY", pattern="^[A-Z]{3}$",
                               description="Currency of compensation when the order names none, "
                               "and of approval limits.")
    smtp_host: str | None = Field(default=None, description="SMTP server for e-mail to customers; unset: no e-mail.")
    smtp_port: int = Field(default=25, description="SMTP port (587 with smtp_starttls, 25 for a local relay).")
    smtp_from: str | None = Field(default=None, description="From address of e-mail to customers.")
    smtp_username: str | None = Field(default=None, description="SMTP login; unset: no login.")
    smtp_password: str | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(default=False, description="Upgrade the SMTP connection with STARTTLS.")
    sms_webhook_url: str | None = Field(default=None, description="Where SMS messages are POSTed (docs/care.md).")
    chat_webhook_url: str | None = Field(default=None, description="Where platform-chat messages are POSTed.")
    outreach_webhook_secret: str | None = Field(
        default=None, description="HMAC-SHA256 key signing SMS/chat webhook bodies (X-Omnistock-Signature).")
    care_sla_scan_seconds: float = Field(
        default=60.0, gt=0, description="How often the SLA watch refreshes open cases' clocks and raises "
        "escalations (run beside the sync workers, once per period across processes).")
    # --- watch: reconciliation, alerts, notifiers, reports (docs/operations.md) ---
    notify_allow_private: bool = Field(
        default=True, description="Let notifiers post to loopback and private-network addresses (self-hosted "
        "chat servers); false refuses them.")
    call_retention_days: float = Field(default=30.0, gt=0, description="Days platform call records are kept.")
    metrics_public: bool = Field(
        default=False, description="Serve GET /metrics without a token (a scraper on a trusted network); by "
        "default it needs a token of any role, as every route but /healthz does.")
    watch_rules_seconds: float = Field(default=30.0, gt=0, description="How often the alert rules are evaluated.")

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
