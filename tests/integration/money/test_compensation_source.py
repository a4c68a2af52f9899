"""The compensation read tolerates a missing complaint desk: no table (or not the expected columns) means no
source, and the profit report shows 0."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from omnistock.money.compensation import stock_error_compensation

START, END = datetime(2024, 1, 1, tzinfo=timezone.utc), datetime(2025, 1, 1, tzinfo=timezone.utc)


def test_no_complaint_desk_tables_means_no_source(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'bare.db'}")
    with Session(engine) as session:
        assert stock_error_compensation(session, START, END) is None
    engine.dispose()


def test_tables_without_the_expected_columns_are_not_read(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE care_cases (id INTEGER PRIMARY KEY, category TEXT)"))
        conn.execute(text("CREATE TABLE care_compensations (id INTEGER PRIMARY KEY, case_id INTEGER, cost TEXT)"))
    with Session(engine) as session:
        assert stock_error_compensation(session, START, END) is None
    engine.dispose()


def test_granted_stock_error_compensation_in_the_period_is_read(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'care.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE care_cases (id INTEGER PRIMARY KEY, order_id INTEGER, channel TEXT, "
                          "category TEXT, skus TEXT)"))
        conn.execute(text("CREATE TABLE care_compensations (id INTEGER PRIMARY KEY, case_id INTEGER, cost NUMERIC, "
                          "currency TEXT, sku TEXT, status TEXT, decided_at DATETIME, created_at DATETIME)"))
        conn.execute(text("""INSERT INTO care_cases VALUES (1, 7, 'tm', 'out_of_stock', '["A"]'),
                             (2, NULL, 'jd', 'late_shipment', '[]'), (3, NULL, 'jd', 'wrong_quantity', '["A","B"]')"""))
        conn.execute(text("""INSERT INTO care_compensations VALUES
            (1, 1, 12.5, 'CNY', NULL, 'granted', '2024-03-01 10:00:00.000000', '2024-03-01 09:00:00.000000'),
            (2, 1, 99, 'CNY', NULL, 'pending_approval', NULL, '2024-03-01 09:00:00.000000'),
            (3, 2, 5, 'CNY', NULL, 'granted', NULL, '2024-03-02 09:00:00.000000'),
            (4, 3, 3, 'USD', 'B', 'granted', NULL, '2024-04-02 09:00:00.000000'),
            (5, 3, 3, 'USD', 'B', 'granted', NULL, '2025-04-02 09:00:00.000000')"""))
    with Session(engine) as session:
        paid = stock_error_compensation(session, START, END)
    engine.dispose()
    assert paid is not None
    assert [(p.cost, p.currency, p.category, p.channel, p.order_id, p.sku) for p in paid] == [
        (Decimal("12.5"), "CNY", "out_of_stock", "tm", 7, "A"), (Decimal(3), "USD", "wrong_quantity", "jd", None, "B")]
