"""The SKU page's stock forms over real HTTP: CSRF, roles, validation next to the field, confirmation of
large changes, and the page showing the new figures."""

from __future__ import annotations

import re

import httpx

from conftest import Backend
from support.core_api import seed, sku
from support.server import LiveServer

from .conftest import csrf_of, make_user, signed_in


def _figure(page: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">([^<]+)<', page)
    assert match, page
    return match.group(1)


def _receive(client: httpx.Client, token: str | None, qty: str = "5", reason: str = "delivery",
             **extra: str) -> httpx.Response:
    data = {"kind": "receipt", "location": "WH", "qty": qty, "reason": reason, **extra}
    if token is not None:
        data["csrf"] = token
    return client.post("/skus/A/moves", data=data)


def test_receiving_stock_shows_on_the_sku_page(api: httpx.Client, clean: Backend, server: LiveServer) -> None:
    seed(api, stock=10)
    make_user(clean, "ops", "operator")
    with signed_in(server, "ops", lang="en") as client:
        before = client.get("/skus/A").text
        assert (_figure(before, "on_hand"), _figure(before, "available")) == ("10", "10")
        done = _receive(client, csrf_of(client, "/skus/A"), qty="5", reference="GRN-7")
        assert done.status_code == 303 and done.headers["location"] == "/skus/A?done=receipt"
        after = client.get(done.headers["location"]).text
        assert (_figure(after, "on_hand"), _figure(after, "available")) == ("15", "15")
        assert "Saved: Receive." in after and "user:ops" in after
    assert sku(api)["on_hand"] == 15
    audit = api.get("/api/v1/audit", params={"sku": "A"}).json()["items"]
    assert audit[0]["actor"] == "user:ops" and audit[0]["reason"] == "delivery"


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(api: httpx.Client, clean: Backend,
                                                                      server: LiveServer) -> None:
    seed(api, stock=10)
    make_user(clean, "ops", "operator")
    with signed_in(server, "ops") as client:
        assert _receive(client, None).status_code == 403
        assert _receive(client, "forged-token").status_code == 403
        with signed_in(server, "ops") as other:
            assert _receive(client, csrf_of(other, "/")).status_code == 403  # another session's token
    assert sku(api)["on_hand"] == 10


def test_a_viewer_sees_no_stock_forms_and_cannot_post_them(api: httpx.Client, clean: Backend,
                                                           server: LiveServer) -> None:
    seed(api, stock=10)
    make_user(clean, "look", "viewer")
    with signed_in(server, "look") as client:
        page = client.get("/skus/A").text
        assert 'action="/skus/A/moves"' not in page
        refused = _receive(client, csrf_of(client, "/skus/A"))
        assert refused.status_code == 403
    assert sku(api)["on_hand"] == 10


def test_a_missing_reason_and_a_bad_quantity_are_shown_next_to_their_fields(api: httpx.Client, clean: Backend,
                                                                           server: LiveServer) -> None:
    seed(api, stock=10)
    make_user(clean, "ops", "operator")
    with signed_in(server, "ops", lang="en") as client:
        bad = _receive(client, csrf_of(client, "/skus/A"), qty="2.5", reason="")
        assert bad.status_code == 422
        assert re.search(r'id="receipt-reason-error"[^>]*>Required\.<', bad.text)
        assert re.search(r'id="receipt-qty-error"[^>]*>Enter a whole number\.<', bad.text)
        assert 'value="2.5"' in bad.text  # what was typed is kept
    assert sku(api)["on_hand"] == 10


def test_a_service_rule_is_shown_next_to_the_field_it_names(api: httpx.Client, clean: Backend,
                                                            server: LiveServer) -> None:
    seed(api, stock=3)
    make_user(clean, "ops", "operator")
    with signed_in(server, "ops", lang="en") as client:
        token = csrf_of(client, "/skus/A")
        response = client.post("/skus/A/moves", data={"csrf": token, "kind": "adjustment", "location": "WH",
                                                      "qty": "-5", "reason": "broken", "confirmed": "1"})
        assert response.status_code == 422
        assert re.search(r'id="adjustment-qty-error"[^>]*>Please correct the value\. \(A has 3 on hand', response.text)
    assert sku(api)["on_hand"] == 3


def test_a_large_change_is_confirmed_before_it_is_posted(api: httpx.Client, clean: Backend,
                                                         server: LiveServer) -> None:
    seed(api, stock=10)
    make_user(clean, "ops", "operator")
    with signed_in(server, "ops", lang="en") as client:
        first = _receive(client, csrf_of(client, "/skus/A"), qty="1000")
        assert first.status_code == 200 and "This is a large change" in first.text
        assert 'name="confirmed" value="1"' in first.text
        assert sku(api)["on_hand"] == 10
        key = re.search(r'id="form-receipt".*?name="form_key" value="([^"]+)"', first.text, re.S).group(1)  # type: ignore[union-attr]
        token = csrf_of(client, "/skus/A")
        confirmed = _receive(client, token, qty="1000", confirmed="1", form_key=key)
        assert confirmed.status_code == 303
        again = _receive(client, token, qty="1000", confirmed="1", form_key=key)  # a double click
        assert again.status_code == 303
    assert sku(api)["on_hand"] == 1010
