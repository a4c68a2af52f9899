"""Cases from platform events (disputes, after-sale requests), as the platform-intake code will open them."""

from __future__ import annotations

import httpx
import pytest

from conftest import Backend
from omnistock.care.platform_intake import open_case_from_platform_event
from omnistock.errors import Invalid, NotFound
from support.care_api import case, order, total_cases
from support.core_api import seed


def test_platform_event_opens_a_case_linked_to_the_order(api: httpx.Client, clean: Backend) -> None:
    seed(api, stock=5)
    o = order(api, "JD-1", 1)
    with clean.db.transaction() as session:
        cid = open_case_from_platform_event(session, "m", "JD-1", "dispute", {
            "dispute_id": "D-9", "message": "买家申请平台介入：一直未发货", "category": "late_shipment"}).id
    c = case(api, cid)
    assert (c["source"], c["order_id"], c["category"], c["priority"]) == ("platform", o["id"], "late_shipment",
                                                                         "urgent")
    assert c["customer"]["name"] == "王小明"
    assert c["messages"][0]["body"] == "买家申请平台介入：一直未发货"


def test_the_same_platform_event_twice_returns_the_first_case(api: httpx.Client, clean: Backend) -> None:
    seed(api, stock=5)
    order(api, "JD-1", 1)
    payload = {"refund_id": "R-1", "reason": "缺货"}
    with clean.db.transaction() as session:
        first = open_case_from_platform_event(session, "m", "JD-1", "out_of_stock", payload).id
    with clean.db.transaction() as session:
        again = open_case_from_platform_event(session, "m", "JD-1", "out_of_stock", payload).id
        other = open_case_from_platform_event(session, "m", "JD-1", "out_of_stock", {"refund_id": "R-2"}).id
    assert first == again and other != first
    assert total_cases(api) == 2
    assert case(api, first)["category"] == "out_of_stock"


def test_event_about_an_unknown_order_opens_a_standalone_case(api: httpx.Client, clean: Backend) -> None:
    seed(api)
    with clean.db.transaction() as session:
        cid = open_case_from_platform_event(session, "m", "NOT-HERE", "after_sale",
                                            {"customer": {"name": "Ann", "phone": "+15550100"}}).id
    c = case(api, cid)
    assert (c["order_id"], c["channel"], c["external_order_id"], c["category"]) == (None, "m", "NOT-HERE", "other")
    assert c["customer"]["phone"] == "+15550100"


def test_bad_platform_events_raise_and_write_nothing(api: httpx.Client, clean: Backend) -> None:
    seed(api)
    with pytest.raises(NotFound) as unknown:
        with clean.db.transaction() as session:
            open_case_from_platform_event(session, "nope", "1", "dispute", {})
    assert unknown.value.field == "channel"
    with pytest.raises(Invalid) as empty:
        with clean.db.transaction() as session:
            open_case_from_platform_event(session, "m", " ", "dispute", {})
    assert empty.value.field == "external_order_id"
    assert total_cases(api) == 0
