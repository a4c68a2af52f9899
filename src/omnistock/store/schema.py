"""Imports every module that defines tables, so that `Base.metadata` knows the whole schema
(Alembic autogenerate, test clean-up). Each feature adds one import line here."""

from omnistock.store import tables  # noqa: F401  (core)
from omnistock.sync import tables as sync_tables  # noqa: F401
