"""Imports every module that defines tables, so that `Base.metadata` knows the whole schema
(Alembic autogenerate, test clean-up). Each feature adds one import line here."""

from omnistock.care import tables as care_tables  # noqa: F401
from omnistock.money import tables as money_tables  # noqa: F401
from omnistock.onboarding import tables as onboarding_tables  # noqa: F401
from omnistock.store import tables  # noqa: F401  (core)
from omnistock.sync import tables as sync_tables  # noqa: F401
from omnistock.watch import tables as watch_tables  # noqa: F401
from omnistock.web import tables as web_tables  # noqa: F401
