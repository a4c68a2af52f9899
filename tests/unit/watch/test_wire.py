"""Notifier wire formats and signatures, byte for byte (vectors computed with the documented algorithms)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qs, unquote_plus, urlsplit

from omnistock.watch import wire


def test_webhook_body_is_compact_json_signed_with_base64_hmac_sha256() -> None:
    req = wire.webhook("http://h/x", {"kind": "oversell", "message": "订单"}, "hush")
    assert req.body == '{"kind":"oversell","message":"订单"}'.encode()
    assert req.headers["X-Omnistock-Signature"] == base64.b64encode(
        hmac.new(b"hush", req.body, hashlib.sha256).digest()).decode()
    assert "X-Omnistock-Signature" not in wire.webhook("http://h/x", {}, None).headers


def test_dingtalk_sign_matches_the_documented_vector() -> None:
    # HMAC-SHA256(key="SEC", "1700000000000\nSEC"), base64, URL-encoded (computed)
    digest = hmac.new(b"SEC", b"1700000000000\nSEC", hashlib.sha256).digest()
    assert unquote_plus(wire.dingtalk_sign("SEC", 1700000000000)) == base64.b64encode(digest).decode()
    req = wire.dingtalk("https://oapi.dingtalk.com/robot/send?access_token=T", "t", "**x**", "SEC", 1700000000000)
    query = parse_qs(urlsplit(req.url).query)
    assert query["access_token"] == ["T"] and query["timestamp"] == ["1700000000000"]
    assert query["sign"] == [base64.b64encode(digest).decode()]
    assert json.loads(req.body) == {"msgtype": "markdown", "markdown": {"title": "t", "text": "**x**"}}


def test_feishu_sign_keys_the_hmac_with_timestamp_and_secret_over_nothing() -> None:
    expected = base64.b64encode(hmac.new(b"1700000000\nfs", b"", hashlib.sha256).digest()).decode()
    assert wire.feishu_sign("fs", 1700000000) == expected
    body = json.loads(wire.feishu("http://h", "hello", "fs", 1700000000).body)
    assert body == {"timestamp": "1700000000", "sign": expected, "msg_type": "text", "content": {"text": "hello"}}
    assert "sign" not in json.loads(wire.feishu("http://h", "hello", None, 1).body)


def test_wecom_markdown_is_cut_below_its_size_limit_on_a_character_boundary() -> None:
    body = json.loads(wire.wecom("http://h", "库存" * 3000).body)
    content = body["markdown"]["content"]
    assert body["msgtype"] == "markdown" and len(content.encode()) <= 4000 and set(content) == {"库", "存"}


def test_robot_answers_are_judged_by_their_own_codes() -> None:
    assert wire.robot_answer_ok("dingtalk", 200, '{"errcode":0,"errmsg":"ok"}')[0]
    assert not wire.robot_answer_ok("dingtalk", 200, '{"errcode":130101,"errmsg":"send too fast"}')[0]
    assert wire.robot_answer_ok("feishu", 200, '{"code":0,"msg":"success"}')[0]
    assert not wire.robot_answer_ok("feishu", 200, '{"code":19021,"msg":"sign match fail"}')[0]
    assert wire.robot_answer_ok("slack", 200, "ok")[0]
    assert not wire.robot_answer_ok("slack", 400, "invalid_payload")[0]
    assert not wire.robot_answer_ok("wecom", 200, "<html>")[0]


def test_several_alerts_become_one_markdown_message() -> None:
    alerts = [{"kind": "drift", "severity": "warning", "channel": "jd", "sku": "A", "message": "A shows 3"},
              {"kind": "oversell", "severity": "critical", "channel": None, "sku": None, "message": "o1 held"}]
    title, text = wire.alerts_markdown(alerts)
    assert title == "omnistock: 2 alerts"
    assert text.splitlines()[1:] == ["- 🟠 **drift** (jd · A): A shows 3", "- 🔴 **oversell**: o1 held"]
    assert "**" not in wire.plain(text)
