"""Channels over the API: every kind connects with its settings checked, secrets never leave sealed, and a
channel can be changed (re-validated, re-sealed, audited) and tested against its platform."""

from __future__ import annotations

import json

import httpx
import pytest

from conftest import Backend, client_for, make_token
from omnistock.channels.simulator import Simulator
from omnistock.channels.simulator.receiver import WebhookReceiver
from omnistock.services import secrets
from support.channel_db import Stored
from support.core_api import seed
from support.platforms import CREDENTIALS, connect, list_item
from support.server import LiveServer

PLATFORMS = ["shopify", "woocommerce", "taobao", "jd", "pinduoduo", "douyin"]
SECRET_FIELDS = {
    "shopify": {"access_token", "webhook_secret"},
    "woocommerce": {"consumer_key", "consumer_secret", "webhook_secret"},
    "taobao": {"app_secret", "session"},
    "jd": {"app_secret", "access_token"},
    "pinduoduo": {"client_secret", "access_token"},
    "douyin": {"app_secret", "access_token"},
}
REQUIRED = {
    "shopify": {"shop_url", "access_token", "location_id", "webhook_secret"},
    "woocommerce": {"base_url", "consumer_key", "consumer_secret", "webhook_secret"},
    "taobao": {"app_key", "app_secret", "session"},
    "jd": {"app_key", "app_secret", "access_token"},
    "pinduoduo": {"client_id", "client_secret", "access_token"},
    "douyin": {"app_key", "app_secret", "access_token"},
    "webhook": {"url", "secret"},
    "feed": {"location"},
}


def listed(api: httpx.Client, code: str) -> dict:
    return next(c for c in api.get("/api/v1/channels").json()["items"] if c["code"] == code)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_platform_connects_masks_its_secrets_and_passes_a_test_call(
        api: httpx.Client, sim: Simulator, stored: Stored, platform: str) -> None:
    conn = connect(api, sim, platform)
    shown = listed(api, conn.code)["settings"]
    for name in SECRET_FIELDS[platform]:
        assert shown[name] == secrets.MASK
    raw = stored.raw(conn.code)
    text = json.dumps(raw)
    for name in SECRET_FIELDS[platform]:
        assert set(raw[name]) == {secrets.MARK}  # sealed in place
        assert CREDENTIALS[platform][name] not in text
    r = api.post(f"/api/v1/channels/{conn.code}/test")
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True


@pytest.mark.parametrize("kind", sorted(REQUIRED))
def test_missing_settings_are_each_named_and_nothing_is_written(api: httpx.Client, stored: Stored, kind: str) -> None:
    r = api.post("/api/v1/channels", json={"code": f"new-{kind}", "kind": kind, "settings": {}})
    assert r.status_code == 422, r.text
    named = {e["field"].removeprefix("settings.") for e in r.json()["errors"]}
    assert named == REQUIRED[kind]
    for key in REQUIRED[kind]:
        assert key in r.json()["detail"]
    assert not stored.has_channel(f"new-{kind}")


def complete_settings(kind: str) -> dict[str, str]:
    """Settings that validate (the endpoint is never called: validation comes first)."""
    if kind == "webhook":
        return {"url": "http://127.0.0.1:9/hook", "secret": "s3cret-own"}
    endpoint = {"shopify": "shop_url", "woocommerce": "base_url"}.get(kind, "gateway_url")
    extra = {"location_id": "1"} if kind == "shopify" else {}
    return {**CREDENTIALS[kind], endpoint: "http://127.0.0.1:9/sandbox", **extra}


@pytest.mark.parametrize("kind", [*PLATFORMS, "webhook"])
def test_an_unknown_setting_is_named_with_the_known_ones_and_nothing_is_written(
        api: httpx.Client, stored: Stored, kind: str) -> None:
    # "gateway" for "gateway_url" is the typo that would otherwise silently send calls to production.
    settings = {**complete_settings(kind), "gateway": "https://sandbox.example"}
    r = api.post("/api/v1/channels", json={"code": f"typo-{kind}", "kind": kind, "settings": settings})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["field"] == "settings.gateway"
    assert [e["field"] for e in body["errors"]] == ["settings.gateway"]
    assert "gateway" in body["detail"]
    [message] = [e["message"] for e in body["errors"]]
    assert message.startswith(f"gateway is not a {kind} setting; known: ")
    assert all(name in message for name in REQUIRED[kind])
    assert not stored.has_channel(f"typo-{kind}")
    ok = api.post("/api/v1/channels", json={"code": f"typo-{kind}", "kind": kind,
                                            "settings": complete_settings(kind)})
    assert ok.status_code == 201, ok.text


def test_webhook_channel_test_call_reaches_the_shop(api: httpx.Client) -> None:
    with WebhookReceiver() as shop:
        r = api.post("/api/v1/channels", json={"code": "own", "kind": "webhook",
                                               "settings": {"url": shop.url, "secret": "s3cret-own"}})
        assert r.status_code == 201, r.text
        assert r.json()["settings"]["secret"] == secrets.MASK
        assert api.post("/api/v1/channels/own/test").status_code == 200
        assert [json.loads(d.body)["type"] for d in shop.received()] == ["ping"]


def test_a_feed_names_an_existing_location(api: httpx.Client, stored: Stored) -> None:
    seed(api)
    r = api.post("/api/v1/channels", json={"code": "shop-1", "kind": "feed", "settings": {"location": "NOPE"}})
    assert r.status_code == 404 and r.json()["field"] == "settings.location"
    assert not stored.has_channel("shop-1")
    r = api.post("/api/v1/channels", json={"code": "shop-1", "kind": "feed",
                                           "settings": {"location": "WH", "colour": "red"}})
    assert r.status_code == 422 and r.json()["field"] == "settings.colour"
    r = api.post("/api/v1/channels", json={"code": "shop-1", "kind": "feed", "settings": {"location": "WH"}})
    assert r.status_code == 201 and r.json()["settings"] == {"location": "WH"}
    assert api.post("/api/v1/channels/shop-1/test").json()["ok"] is True


def test_a_wrong_credential_fails_the_test_call_clearly(api: httpx.Client, sim: Simulator) -> None:
    conn = connect(api, sim, "jd", extra_settings={"access_token": "not-the-token"})
    r = api.post(f"/api/v1/channels/{conn.code}/test")
    assert r.status_code == 502
    assert r.json()["title"] == "Platform authentication failed"


# --- PATCH -------------------------------------------------------------------------------------


def test_disabling_keeps_listings_and_reenabling_marks_them_all_for_a_push(
        api: httpx.Client, sim: Simulator, stored: Stored) -> None:
    seed(api, stock=5)
    conn = connect(api, sim, "taobao")
    list_item(api, conn, "A", 1)
    list_item(api, conn, "A", 2)
    stored.set_listings_clean(conn.code)
    r = api.patch(f"/api/v1/channels/{conn.code}", json={"enabled": False, "name": "Tmall flagship"})
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] is False and r.json()["name"] == "Tmall flagship"
    assert not any(lst.dirty for lst in stored.listings(conn.code))
    assert api.patch(f"/api/v1/channels/{conn.code}", json={"enabled": True}).status_code == 200
    assert all(lst.dirty for lst in stored.listings(conn.code))
    audit = api.get("/api/v1/audit").json()["items"]
    changes = [e for e in audit if e["action"] == "channel.update" and e["entity"] == f"channel:{conn.code}"]
    assert len(changes) == 2
    assert {c["after"]["enabled"] for c in changes} == {True, False}


def test_a_rotated_secret_is_sealed_again_and_a_masked_one_is_kept(
        api: httpx.Client, sim: Simulator, stored: Stored) -> None:
    conn = connect(api, sim, "taobao")
    before = stored.raw(conn.code)
    r = api.patch(f"/api/v1/channels/{conn.code}",
                  json={"settings": {"app_secret": "rotated-secret", "session": secrets.MASK}})
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["app_secret"] == secrets.MASK
    after = stored.raw(conn.code)
    assert "rotated-secret" not in json.dumps(after) and after["app_secret"] != before["app_secret"]
    plain = secrets.unseal(stored.settings, after)
    assert plain["app_secret"] == "rotated-secret"
    assert plain["session"] == CREDENTIALS["taobao"]["session"]
    audit = [e for e in api.get("/api/v1/audit").json()["items"] if e["action"] == "channel.update"]
    assert audit[0]["after"]["changed_settings"] == ["app_secret"]
    assert "rotated-secret" not in json.dumps(audit)


def test_settings_that_no_longer_validate_change_nothing(api: httpx.Client, sim: Simulator, stored: Stored) -> None:
    conn = connect(api, sim, "douyin")
    before = stored.raw(conn.code)
    r = api.patch(f"/api/v1/channels/{conn.code}",
                  json={"name": "renamed", "settings": {"app_key": None, "access_token": None}})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"settings.app_key", "settings.access_token"}
    assert stored.raw(conn.code) == before and stored.channel(conn.code).name == conn.code
    r = api.patch(f"/api/v1/channels/{conn.code}", json={"settings": {"sign_method": "sha1"}})
    assert r.status_code == 422 and r.json()["field"] == "settings.sign_method"
    r = api.patch(f"/api/v1/channels/{conn.code}", json={"settings": {"nonsense": secrets.MASK}})
    assert r.status_code == 422 and r.json()["field"] == "settings.nonsense"
    r = api.patch(f"/api/v1/channels/{conn.code}", json={"enabled": "yes"})
    assert r.status_code == 422 and r.json()["field"] == "enabled"
    assert api.patch("/api/v1/channels/nope", json={"enabled": True}).status_code == 404


def test_sync_schedule_is_changed_and_checked(api: httpx.Client, sim: Simulator, stored: Stored) -> None:
    conn = connect(api, sim, "pinduoduo")
    r = api.patch(f"/api/v1/channels/{conn.code}/sync", json={"poll_minutes": 2})
    assert r.status_code == 200, r.text
    assert (r.json()["poll_minutes"], r.json()["full_sync_minutes"]) == (2, 15)
    r = api.patch(f"/api/v1/channels/{conn.code}/sync", json={"full_sync_minutes": 0.5})
    assert r.status_code == 200, r.text
    state = stored.sync_state(conn.code)
    assert state is not None and (state.poll_minutes, state.full_sync_minutes) == (2, 0.5)
    for bad in ({"poll_minutes": 0}, {"poll_minutes": "5"}, {"poll_minutes": True},
                {"full_sync_minutes": 10**6}, {"every": 3}):
        r = api.patch(f"/api/v1/channels/{conn.code}/sync", json=bad)
        assert r.status_code == 422, bad
    state = stored.sync_state(conn.code)
    assert state is not None and (state.poll_minutes, state.full_sync_minutes) == (2, 0.5)
    assert any(e["action"] == "channel.sync" for e in api.get("/api/v1/audit").json()["items"])


def test_only_config_writers_change_channels(api: httpx.Client, sim: Simulator, clean: Backend,
                                            server: LiveServer) -> None:
    conn = connect(api, sim, "jd")
    assert api.post("/api/v1/channels", json={"code": "other", "kind": "manual"}).status_code == 201
    with client_for(server, make_token(clean, "operator")) as operator:
        assert operator.patch(f"/api/v1/channels/{conn.code}", json={"enabled": False}).status_code == 403
        assert operator.patch(f"/api/v1/channels/{conn.code}/sync", json={"poll_minutes": 1}).status_code == 403
        assert operator.post(f"/api/v1/channels/{conn.code}/test").status_code == 403
    with client_for(server, make_token(clean, "admin", channels=["other"])) as scoped:
        assert scoped.patch(f"/api/v1/channels/{conn.code}", json={"enabled": False}).status_code == 403
    assert listed(api, conn.code)["enabled"] is True
