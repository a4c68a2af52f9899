"""Each notifier's wire format and signature, checked by a real receiver on loopback: the generic webhook,
DingTalk, WeCom, Feishu, Slack and e-mail; grouping within a robot's limit; retries; routing; bad input."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from conftest import Backend
from omnistock.domain.access import Principal, Role
from omnistock.errors import Invalid
from omnistock.store.types import utcnow
from omnistock.watch import alerts, delivery, notify
from support.core_api import seed
from support.notify_receivers import RobotReceiver, SmtpReceiver
from support.server import LiveServer

ADMIN = Principal(name="test", role=Role.ADMIN)


def oversell(api: httpx.Client, ext: str = "o-1", qty: int = 5) -> dict[str, Any]:
    r = api.post("/api/v1/orders", json={"channel": "m", "external_id": ext, "lines": [{"sku": "A", "qty": qty}]})
    assert r.status_code == 201 and r.json()["status"] == "held", r.text
    return dict(r.json())


def add_notifier(api: httpx.Client, code: str, kind: str, settings: dict[str, Any],
                 routes: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "kind": kind, "settings": settings}
    if routes is not None:
        body["routes"] = routes
    r = api.post("/api/v1/notifiers", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def send(backend: Backend) -> int:
    with httpx.Client(timeout=10) as client:
        return delivery.send_due(backend.db, backend.settings, client)


def test_webhook_posts_each_alert_signed_like_the_webhook_channel(api: httpx.Client, clean: Backend) -> None:
    seed(api, stock=1)
    with RobotReceiver(answer=b"", status=204) as hook:
        view = add_notifier(api, "ops", "webhook", {"url": hook.url(), "secret": "s3cret"})
        assert view["settings"]["secret"] != "s3cret"  # sealed and masked
        held = oversell(api)
        assert send(clean) == 1
        [hit] = hook.hits
    expected = base64.b64encode(hmac.new(b"s3cret", hit.body, hashlib.sha256).digest()).decode()
    assert hit.headers["x-omnistock-signature"] == expected
    assert hit.headers["content-type"] == "application/json" and hit.headers["x-omnistock-event"] == "alert"
    alert = json.loads(hit.body)
    assert {"id", "kind", "severity", "sku", "channel", "message", "created_at", "status"} <= set(alert)
    assert (alert["kind"], alert["severity"], alert["sku"], alert["channel"], alert["status"]) == \
        ("oversell", "critical", "A", "m", "open")
    assert alert["order_id"] == held["id"] and "o-1" in alert["message"]


def test_dingtalk_robot_gets_markdown_signed_with_timestamp(api: httpx.Client, clean: Backend) -> None:
    seed(api, stock=1)
    with RobotReceiver() as robot:
        add_notifier(api, "ding", "dingtalk", {"url": robot.url("/robot/send?access_token=T0K"), "secret": "SEC"})
        oversell(api)
        assert send(clean) == 1
        [hit] = robot.hits
    assert hit.path == "/robot/send" and hit.query["access_token"] == "T0K"
    ts = hit.query["timestamp"]
    digest = hmac.new(b"SEC", f"{ts}\nSEC".encode(), hashlib.sha256).digest()
    assert hit.query["sign"] == base64.b64encode(digest).decode()  # parse_qs undid the URL encoding
    body = json.loads(hit.body)
    assert body["msgtype"] == "markdown" and "oversell" in body["markdown"]["title"]
    assert "o-1" in body["markdown"]["text"]


def test_wecom_robot_gets_markdown(api: httpx.Client, clean: Backend) -> None:
    seed(api, stock=1)
    with RobotReceiver() as robot:
        add_notifier(api, "wx", "wecom", {"url": robot.url("/cgi-bin/webhook/send?key=K1")})
        oversell(api)
        assert send(clean) == 1
        [hit] = robot.hits
    assert hit.query == {"key": "K1"}
    body = json.loads(hit.body)
    assert body["msgtype"] == "markdown" and "oversell" in body["markdown"]["content"]


def test_feishu_bot_gets_text_signed_over_an_empty_message(api: httpx.Client, clean: Backend) -> None:
    seed(api, stock=1)
    with RobotReceiver(answer=b'{"code":0,"msg":"success"}') as bot:
        add_notifier(api, "fs", "feishu", {"url": bot.url("/open-apis/bot/v2/hook/abc"), "secret": "fsec"})
        oversell(api)
        assert send(clean) == 1
        [hit] = bot.hits
    body = json.loads(hit.body)
    key = f"{body['timestamp']}\nfsec".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert body["msg_type"] == "text" and "o-1" in body["content"]["text"] and "**" not in body["content"]["text"]


def test_slack_incoming_webhook_gets_text(api: httpx.Client, clean: Backend) -> None:
    seed(api, stock=1)
    with RobotReceiver(answer=b"ok") as slack:
        add_notifier(api, "sl", "slack", {"url": slack.url("/services/T/B/X")})
        oversell(api)
        assert send(clean) == 1
        [hit] = slack.hits
    assert set(json.loads(hit.body)) == {"text"} and "oversell" in json.loads(hit.body)["text"]


def test_email_reaches_a_local_smtp_server(api: httpx.Client, clean: Backend) -> None:
    seed(api, stock=1)
    with SmtpReceiver() as smtp:
        add_notifier(api, "mail", "email", {"to": ["ops@example.com"], "host": "127.0.0.1", "port": smtp.port,
                                            "sender": "omnistock@example.com"})
        oversell(api)
        assert send(clean) == 1
        [msg] = smtp.wait_for(1)
    assert msg["To"] == "ops@example.com" and msg["From"] == "omnistock@example.com"
    assert "oversell" in msg["Subject"] and "o-1" in msg.get_payload(decode=True).decode()


def test_a_robot_refusing_the_message_is_retried_later(api: httpx.Client, clean: Backend) -> None:
    seed(api, stock=1)
    with RobotReceiver() as robot:
        robot.script.append((200, b'{"errcode":130101,"errmsg":"send too fast"}'))
        add_notifier(api, "ding", "dingtalk", {"url": robot.url("/robot/send?access_token=T")})
        oversell(api)
        assert send(clean) == 0  # refused: kept for a retry with backoff, not sent again at once
        assert send(clean) == 0
        later = utcnow() + timedelta(minutes=5)
        with httpx.Client() as client:
            assert delivery.send_due(clean.db, clean.settings, client, clock=lambda: later) == 1
        assert len(robot.hits) == 2
    items = api.get("/api/v1/notifiers/ding/deliveries").json()["items"]
    assert [(i["status"], i["attempts"]) for i in items] == [("sent", 2)]


def test_chat_robots_get_grouped_alerts_within_their_limit(api: httpx.Client, clean: Backend) -> None:
    seed(api)
    with RobotReceiver() as robot:
        add_notifier(api, "ding", "dingtalk", {"url": robot.url("/robot/send?access_token=T"), "per_minute": 2})
        with clean.db.transaction() as session:
            for n in range(30):
                alerts.raise_alert(session, alerts.Condition(kind="low_stock", key=f"test:{n}", severity="warning",
                                                             message=f"burst alert {n}"))
        assert send(clean) == 2  # 30 alerts in two messages, the robot's limit for this minute
        assert send(clean) == 0  # the limit is used up: nothing is dropped, the rest waits
        texts = [json.loads(h.body)["markdown"]["text"] for h in robot.hits]
    assert sum(t.count("burst alert") for t in texts) == 30


def test_routes_send_each_alert_only_where_it_belongs(api: httpx.Client, clean: Backend) -> None:
    seed(api, stock=1)
    assert api.post("/api/v1/channels", json={"code": "store1", "kind": "manual"}).status_code == 201
    with RobotReceiver(answer=b"", status=200) as drift_only, RobotReceiver(answer=b"", status=200) as store:
        add_notifier(api, "drift-team", "webhook", {"url": drift_only.url()}, {"kinds": ["drift"]})
        add_notifier(api, "store-manager", "webhook", {"url": store.url()}, {"channels": ["store1"]})
        oversell(api)  # channel m
        r = api.post("/api/v1/orders", json={"channel": "store1", "external_id": "s-1",
                                             "lines": [{"sku": "A", "qty": 9}]})
        assert r.json()["status"] == "held"
        send(clean)
        assert drift_only.hits == []
        assert [json.loads(h.body)["channel"] for h in store.hits] == ["store1"]


def test_test_message_reaches_the_notifier(api: httpx.Client, clean: Backend) -> None:
    with RobotReceiver(answer=b"ok") as slack:
        add_notifier(api, "sl", "slack", {"url": slack.url()})
        assert api.post("/api/v1/notifiers/sl/test").status_code == 202
        assert send(clean) == 1
        assert "test message" in json.loads(slack.hits[0].body)["text"]


def test_bad_notifiers_name_the_field_and_write_nothing(api: httpx.Client) -> None:
    seed(api)
    cases = [
        ({"code": "x", "kind": "pager", "settings": {}}, 422, "kind"),
        ({"code": "x", "kind": "webhook", "settings": {}}, 422, "settings.url"),
        ({"code": "x", "kind": "webhook", "settings": {"url": "ftp://example.com/"}}, 422, "settings.url"),
        ({"code": "x", "kind": "dingtalk", "settings": {"url": "http://127.0.0.1/", "per_minute": 0}}, 422,
         "settings.per_minute"),
        ({"code": "x", "kind": "email", "settings": {"to": ["not-an-address"], "host": "127.0.0.1"}}, 422,
         "settings.to.0"),
        ({"code": "x", "kind": "webhook", "settings": {"url": "http://127.0.0.1/"}, "routes": {"kinds": ["nope"]}},
         422, "routes.kinds"),
        ({"code": "x", "kind": "webhook", "settings": {"url": "http://127.0.0.1/"},
          "routes": {"channels": ["nope"]}}, 404, "routes.channels"),
    ]
    for body, status, field in cases:
        r = api.post("/api/v1/notifiers", json=body)
        assert r.status_code == status and r.json()["field"] == field, (body, r.text)
    assert api.get("/api/v1/notifiers").json()["total"] == 0
    add_notifier(api, "x", "webhook", {"url": "http://127.0.0.1:9/"})
    assert api.post("/api/v1/notifiers", json={"code": "x", "kind": "webhook",
                                               "settings": {"url": "http://127.0.0.1:9/"}}).status_code == 409


def test_private_addresses_can_be_forbidden(clean: Backend) -> None:
    strict = clean.settings.model_copy(update={"notify_allow_private": False})
    srv = LiveServer(strict, clean.db).start()
    try:
        from conftest import client_for, make_token

        with client_for(srv, make_token(clean)) as api:
            for url in ("http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "http://[::1]/hook"):
                r = api.post("/api/v1/notifiers", json={"code": "x", "kind": "webhook", "settings": {"url": url}})
                assert r.status_code == 422 and r.json()["field"] == "settings.url", r.text
    finally:
        srv.stop()
    with clean.db.transaction() as session, pytest.raises(Invalid):
        notify.create_notifier(session, strict, ADMIN, code="y", kind="wecom",
                               settings={"url": "http://192.168.1.5/cgi-bin/webhook/send?key=k"}, routes=None)
