"""Channels in the console: connecting a platform with the form of its kind, testing the connection
against the platform simulator on loopback, mapping listings, and allocation policies (importing listings from a
file is the onboarding import: test_onboarding_console.py)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest

from conftest import Backend
from omnistock.channels.simulator import SimRegistry, Simulator
from support.core_api import seed
from support.server import LiveServer

from .conftest import csrf_of, make_user, signed_in

TOKEN = "shpat_console"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(SimRegistry(seed=9)) as simulator:
        yield simulator


def _shopify_form(sim: Simulator, token: str, **changes: str) -> dict[str, str]:
    shop = sim.registry.add_shop(f"shopify-{uuid.uuid4().hex[:8]}", "shopify",
                                 {"access_token": TOKEN, "webhook_secret": "hush", "location_id": "77"})
    form = {"kind": "shopify", "code": "shop1", "name": "Shopify EU", "csrf": token,
            "settings.shop_url": f"{sim.url}/shopify/{shop.code}", "settings.access_token": TOKEN,
            "settings.location_id": "77", "settings.webhook_secret": "hush", "settings.api_version": "2026-01"}
    form.update(changes)
    return form


def test_the_connect_form_is_built_from_the_platforms_settings(clean: Backend, server: LiveServer) -> None:
    make_user(clean, "admin")
    with signed_in(server, "admin", lang="en") as client:
        page = client.get("/channels/new?kind=shopify").text
        taobao = client.get("/channels/new?kind=taobao").text
    for name in ("shop_url", "access_token", "location_id", "webhook_secret", "api_version"):
        assert f'name="settings.{name}"' in page
    assert re.search(r'name="settings.access_token" type="password"', page)
    assert 'value="2026-01"' in page  # the default is filled in
    assert '<option value="hmac-sha256" selected>' in taobao  # a choice of the settings model is a select


def test_missing_settings_are_shown_next_to_their_fields(clean: Backend, server: LiveServer,
                                                         sim: Simulator) -> None:
    make_user(clean, "admin")
    with signed_in(server, "admin", lang="en") as client:
        form = _shopify_form(sim, csrf_of(client, "/channels/new"), **{"settings.access_token": "",
                                                                       "settings.location_id": ""})
        response = client.post("/channels/new", data=form)
    assert response.status_code == 422
    assert re.search(r'id="f-settings-access_token-error"[^>]*>[^<]*access_token is required', response.text)
    assert re.search(r'id="f-settings-location_id-error"[^>]*>[^<]*location_id is required', response.text)


def test_connect_then_test_the_connection_against_the_platform(api: httpx.Client, clean: Backend,
                                                              server: LiveServer, sim: Simulator) -> None:
    make_user(clean, "admin")
    with signed_in(server, "admin", lang="en") as client:
        created = client.post("/channels/new", data=_shopify_form(sim, csrf_of(client, "/channels/new")))
        assert created.status_code == 303 and created.headers["location"] == "/channels/shop1?done=created"
        page = client.get("/channels/shop1").text
        assert TOKEN not in page and "hush" not in page  # secrets are never shown
        token = csrf_of(client, "/channels/shop1")
        ok = client.post("/channels/shop1/test", data={"csrf": token}, headers={"HX-Request": "true"})
        assert ok.status_code == 200 and "Connected" in ok.text
        bad = client.post("/channels/new", data=_shopify_form(sim, token, code="shop2",
                                                               **{"settings.access_token": "shpat_wrong"}))
        assert bad.status_code == 303
        refused = client.post("/channels/shop2/test", data={"csrf": token})
        assert refused.status_code == 200 and "access token was refused" in refused.text
    assert api.get("/api/v1/channels").json()["total"] == 2


def test_the_connect_form_tests_the_settings_before_anything_is_saved(api: httpx.Client, clean: Backend,
                                                                      server: LiveServer, sim: Simulator) -> None:
    make_user(clean, "admin")
    audit_before = api.get("/api/v1/audit").json()["total"]
    with signed_in(server, "admin", lang="en") as client:
        form = client.get("/channels/new?kind=shopify").text
        assert 'formaction="/channels/new/test"' in form and 'hx-post="/channels/new/test"' in form
        token = csrf_of(client, "/channels/new")
        good = client.post("/channels/new/test", data=_shopify_form(sim, token), headers={"HX-Request": "true"})
        assert good.status_code == 200 and "<html" not in good.text and "Connected" in good.text
        wrong = client.post("/channels/new/test", data=_shopify_form(sim, token, **{
            "settings.access_token": "shpat_wrong"}), headers={"HX-Request": "true"})
        assert wrong.status_code == 200 and "The platform refused the credentials" in wrong.text
        assert "access token was refused" in wrong.text
        # without JavaScript the whole form comes back, the values kept (secrets left out) and the result shown
        incomplete = client.post("/channels/new/test", data=_shopify_form(sim, token, **{
            "settings.location_id": ""}))
        assert incomplete.status_code == 422
        assert re.search(r'id="f-settings-location_id-error"[^>]*>[^<]*location_id is required', incomplete.text)
        assert 'value="Shopify EU"' in incomplete.text and TOKEN not in incomplete.text
        passive = client.post("/channels/new/test", data={"csrf": token, "kind": "manual", "code": "pos9"})
        assert "no platform to call" in passive.text
        zh = client.post("/channels/new/test?lang=zh-CN", data=_shopify_form(sim, token, **{
            "settings.access_token": "shpat_wrong"}), headers={"HX-Request": "true"})
        assert "平台拒绝了凭证" in zh.text
        forged = client.post("/channels/new/test", data={**_shopify_form(sim, token), "csrf": "forged"})
        assert forged.status_code == 403
    assert api.get("/api/v1/channels").json()["total"] == 0  # testing stored no channel
    assert api.get("/api/v1/audit").json()["total"] == audit_before


def test_the_channel_page_refreshes_its_health(api: httpx.Client, clean: Backend, server: LiveServer) -> None:
    seed(api, stock=3)
    make_user(clean, "look", "viewer")
    with signed_in(server, "look", lang="en") as client:
        page = client.get("/channels/m").text
        assert 'hx-get="/channels/m/parts/health"' in page and 'hx-trigger="every 10s"' in page
        before = client.get("/channels/m/parts/health", headers={"HX-Request": "true"})
        api.post("/api/v1/channels/m/listings", json={"sku": "A", "external_id": "item-9"})
        after = client.get("/channels/m/parts/health", headers={"HX-Request": "true"})
        assert client.get("/channels/nope/parts/health").status_code == 404
    assert before.status_code == after.status_code == 200 and "<html" not in after.text
    listings = re.compile(r"<dt>Listings</dt><dd>(\d+)</dd>")
    assert listings.search(before.text)[1] == "0" and listings.search(after.text)[1] == "1"  # type: ignore[index]
    assert "Not pushed" in after.text  # a manual channel's state


def test_mapping_a_listing_and_setting_a_policy(api: httpx.Client, clean: Backend, server: LiveServer) -> None:
    seed(api, stock=10)
    make_user(clean, "admin")
    with signed_in(server, "admin", lang="en") as client:
        token = csrf_of(client, "/channels/m")
        mapped = client.post("/channels/m/listings", data={"csrf": token, "sku": "A", "external_id": "item-1",
                                                           "pack_size": "2"})
        assert mapped.status_code == 303
        unknown = client.post("/channels/m/listings", data={"csrf": token, "sku": "NOPE", "external_id": "item-2"})
        assert unknown.status_code == 422 and re.search(r'id="map-sku-error"[^>]*>Not found\.', unknown.text)
        bad = client.post("/channels/m/policy", data={"csrf": token, "kind": "share", "percent": "150"})
        assert bad.status_code == 422
        assert re.search(r'id="policy-percent-error"[^>]*>[^<]*between 0 and 100', bad.text)
        good = client.post("/channels/m/policy", data={"csrf": token, "kind": "share", "percent": "50",
                                                       "reason": "half for the live stream"})
        assert good.status_code == 303
        page = client.get("/channels/m").text
        assert "item-1" in page and "Share: a percentage" in page
    listings = api.get("/api/v1/channels/m/listings").json()["items"]
    assert [(x["external_id"], x["pack_size"]) for x in listings] == [("item-1", 2)]
    audit = api.get("/api/v1/audit", params={"actor": "user:admin"}).json()["items"]
    assert any(e["action"] == "channel.policy" and e["after"]["policy"] == {"kind": "share", "percent": "50"}
               for e in audit)


def test_the_api_sets_policies_through_the_same_service(api: httpx.Client, clean: Backend,
                                                        server: LiveServer) -> None:
    seed(api, stock=10)
    api.post("/api/v1/channels/m/listings", json={"sku": "A", "external_id": "item-1"})
    channel = api.put("/api/v1/channels/m/policy", json={"policy": {"kind": "fixed", "quantity": 3}})
    override = api.put("/api/v1/channels/m/policy", json={"policy": {"kind": "shared", "cap": 2}, "sku": "A",
                                                          "reason": "new product"})
    assert channel.status_code == override.status_code == 200, (channel.text, override.text)
    assert override.json() == {"channel": "m", "sku": "A", "policy": {"kind": "shared", "cap": 2}}
    assert api.put("/api/v1/channels/m/policy", json={"policy": {"kind": "fixed"}}).status_code == 422
    make_user(clean, "look", "viewer")
    with signed_in(server, "look", lang="en") as client:
        page = client.get("/channels/m").text
    assert "Fixed: a set quantity" in page and "quantity=3" in page and "cap=2" in page
    assert 'action="/channels/m/policy"' not in page  # a viewer gets no form
