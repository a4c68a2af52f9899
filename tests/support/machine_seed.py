"""The small world the stateful (hypothesis) tests of the ledger start from."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine

from conftest import Backend
from omnistock.services import catalogue, channels

SKUS = ["A", "B"]
LOCS = ["L1", "L2"]


def seed_world(backend: Backend) -> None:
    """An empty database with two sellable warehouses, SKUs A and B, a kit of 2 A + 1 B, and a manual channel."""
    backend.reset()
    with backend.db.transaction() as s:
        for code in LOCS:
            catalogue.create_location(s, code=code, name=code, kind="warehouse", sellable=True, actor="t")
        for code in SKUS:
            catalogue.create_sku(s, catalogue.SkuSpec(code=code, name=code), actor="t")
        catalogue.create_sku(s, catalogue.SkuSpec(code="KIT", name="kit", components=[
            catalogue.ComponentSpec("A", 2), catalogue.ComponentSpec("B", 1)]), actor="t")
        channels.create_channel(s, backend.settings, code="m", kind="manual", name=None, settings=None, actor="t")


def run_machine(machine: type[RuleBasedStateMachine], backend: Backend, *, examples: tuple[int, int],
                steps: int) -> None:
    """Run a state machine with (SQLite, PostgreSQL) example counts: PostgreSQL's round trips cost more."""
    sqlite_examples, postgres_examples = examples
    wanted = sqlite_examples if backend.name == "sqlite" else postgres_examples
    machine.TestCase.settings = settings(max_examples=wanted, stateful_step_count=steps, deadline=None,
                                         suppress_health_check=list(HealthCheck))
    machine.TestCase().runTest()
