"""Outreach over real wires on loopback: e-mail delivered to a local SMTP server, SMS and platform chat to a
local webhook receiver in the documented JSON format; every send recorded with its result."""

from __future__ import annotations

import hashlib
import hmac

import httpx

from support.care_api import assert_problem, case, new_case, order, the_case_of
from support.core_api import seed


def _email_sender(api: httpx.Client, smtp: object) -> None:
    r = api.put("/api/v1/care/senders/email", json={"config": {
        "host": smtp.host, "port": smtp.port, "from": "service@shop.example"}})  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text


def test_email_is_really_delivered_to_the_local_smtp_server(api: httpx.Client, smtp) -> None:  # type: ignore[no-untyped-def]
    seed(api, stock=0)
    _email_sender(api, smtp)
    c = the_case_of(api, order(api, "JD-501", 1, email="wang@example.com")["id"])
    draft = c["messages"][0]
    r = api.post(f"/api/v1/cases/{c['id']}/messages/{draft['id']}/send", json={"channel": "email"})
    assert r.status_code == 200, r.text
    sent = r.json()
    assert sent["status"] == "sent" and sent["deliveries"][0]["ok"] is True
    assert sent["deliveries"][0]["recipient"] == "wang@example.com"
    assert len(smtp.envelopes) == 1 and smtp.envelopes[0].rcpt_tos == ["wang@example.com"]
    mail = smtp.messages()[0]
    assert mail["From"] == "service@shop.example" and "JD-501" in str(mail["Subject"])
    text = mail.get_content()
    assert "王小明" in text and "JD-501" in text
    after = case(api, c["id"])
    assert after["first_response_at"] is not None and after["status"] == "open"
    assert after["sla"]["first_response"] == "met"


def test_reply_by_template_in_english_by_email(api: httpx.Client, smtp) -> None:  # type: ignore[no-untyped-def]
    _email_sender(api, smtp)
    c = new_case(api, locale="en", customer={"name": "Ann Lee", "email": "ann@example.org"})
    r = api.post(f"/api/v1/cases/{c['id']}/messages", json={"template": "case_resolved"})
    assert r.status_code == 201 and r.json()["status"] == "sent" and r.json()["channel"] == "email"
    assert smtp.messages()[0].get_content().startswith("Dear Ann Lee")


def test_smtp_server_down_is_recorded_as_a_failed_send(api: httpx.Client) -> None:
    api.put("/api/v1/care/senders/email", json={"config": {"host": "127.0.0.1", "port": 1}})
    c = new_case(api, customer={"email": "a@example.org"})
    r = api.post(f"/api/v1/cases/{c['id']}/messages", json={"body": "hello", "channel": "email"})
    assert r.status_code == 201
    failed = r.json()
    assert failed["status"] == "failed" and failed["deliveries"][0]["ok"] is False
    assert "Error" in failed["deliveries"][0]["detail"]
    assert case(api, c["id"])["first_response_at"] is None  # the customer got nothing


def test_sms_webhook_gets_the_documented_json_signed(api: httpx.Client, receiver) -> None:  # type: ignore[no-untyped-def]
    secret = "hook-secret"
    api.put("/api/v1/care/senders/sms", json={"config": {"url": receiver.url("/sms"), "secret": secret}})
    seed(api, stock=0)
    c = the_case_of(api, order(api, "PDD-9", 1, email=None, phone="+8613911112222")["id"])
    r = api.post(f"/api/v1/cases/{c['id']}/messages/{c['messages'][0]['id']}/send")  # auto: only SMS reaches
    assert r.json()["status"] == "sent" and r.json()["channel"] == "sms"
    hit = receiver.hits[0]
    assert hit.path == "/sms" and hit.headers["x-omnistock-event"] == "care.message"
    expected = "sha256=" + hmac.new(secret.encode(), hit.raw, hashlib.sha256).hexdigest()
    assert hit.headers["x-omnistock-signature"] == expected
    assert hit.headers["x-omnistock-delivery"] == str(r.json()["id"])
    body = hit.json
    assert (body["type"], body["version"], body["channel"], body["case_id"]) == ("care.message", 1, "sms", c["id"])
    assert body["to"] == {"name": "王小明", "phone": "+8613911112222", "email": None, "platform": "m",
                          "order": "PDD-9"}
    assert "PDD-9" in body["text"] and body["locale"] == "zh"


def test_failed_webhook_is_recorded_and_the_retry_succeeds(api: httpx.Client, receiver) -> None:  # type: ignore[no-untyped-def]
    api.put("/api/v1/care/senders/chat", json={"config": {"url": receiver.url("/chat")}})
    seed(api, stock=5)
    c = new_case(api, order_id=order(api, "DY-3", 1)["id"])
    receiver.script = [503]
    failed = api.post(f"/api/v1/cases/{c['id']}/messages", json={"body": "您好 {{ customer_name }}",
                                                                 "channel": "chat"}).json()
    assert failed["status"] == "failed" and failed["deliveries"][0]["status_code"] == 503
    retried = api.post(f"/api/v1/cases/{c['id']}/messages/{failed['id']}/send", json={"channel": "chat"}).json()
    assert retried["status"] == "sent" and [d["ok"] for d in retried["deliveries"]] == [False, True]
    assert [h.json["text"] for h in receiver.hits] == ["您好 王小明"] * 2
    assert "x-omnistock-signature" not in receiver.hits[0].headers  # no secret set


def test_bulk_incident_message_reaches_every_customer_once(api: httpx.Client, receiver) -> None:  # type: ignore[no-untyped-def]
    api.put("/api/v1/care/senders/chat", json={"config": {"url": receiver.url("/chat")}})
    seed(api, stock=0)
    cases = [the_case_of(api, order(api, f"JD-{i}", 1, email=None)["id"])["id"] for i in range(3)]
    standalone = new_case(api)["id"]  # no channel: cannot be reached by chat
    iid = api.post("/api/v1/incidents", json={"title": "oversell", "case_ids": [*cases, standalone]}).json()["id"]
    body = {"template": "incident_update", "channel": "chat"}
    first = api.post(f"/api/v1/incidents/{iid}/message", json=body).json()
    assert (sorted(first["done"]), first["sent"], first["failed"]) == (sorted(cases), 3, 0)
    assert [s["case_id"] for s in first["skipped"]] == [standalone]
    again = api.post(f"/api/v1/incidents/{iid}/message", json=body).json()
    assert again["done"] == [] and sorted(again["already"]) == sorted(cases)
    assert sorted(h.json["to"]["order"] for h in receiver.hits) == ["JD-0", "JD-1", "JD-2"]


def test_sender_secrets_are_never_shown(api: httpx.Client) -> None:
    api.put("/api/v1/care/senders/email", json={"config": {"host": "smtp.example", "port": 587, "username": "u",
                                                           "password": "p4ss", "starttls": True}})
    listed = api.get("/api/v1/care/senders").json()["items"]
    email = next(s for s in listed if s["kind"] == "email")
    assert email["source"] == "api" and email["config"]["password"] != "p4ss" and "p4ss" not in str(listed)


def test_unusable_channel_is_422_and_nothing_is_written(api: httpx.Client) -> None:
    c = new_case(api, customer={"name": "Ann"})
    assert_problem(api.post(f"/api/v1/cases/{c['id']}/messages", json={"body": "hi", "channel": "email"}), 422,
                   "channel")
    assert_problem(api.post(f"/api/v1/cases/{c['id']}/messages", json={"body": "hi"}), 422, "channel")
    assert_problem(api.post(f"/api/v1/cases/{c['id']}/messages", json={"channel": "manual"}), 422, "body")
    assert_problem(api.post(f"/api/v1/cases/{c['id']}/messages", json={"body": "{{ nope }}", "channel": "manual"}),
                   422, "body")
    assert_problem(api.put("/api/v1/care/senders/sms", json={"config": {"url": "ftp://x"}}), 422, "config.url")
    assert_problem(api.put("/api/v1/care/senders/fax", json={"config": {}}), 422, "kind")
    after = case(api, c["id"])
    assert after["messages"] == [] and after["status"] == "new"
