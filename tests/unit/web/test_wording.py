"""Hold reasons, alert messages and errors said in the visitor's language from what they are made of (no
database): each hold reason as its service writes it, the alerts' details, and the fallbacks to the stored text."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from omnistock.errors import InsufficientStock, Invalid, PlatformAuthFailed, Shortfall
from omnistock.watch.alerts import Names
from omnistock.watch.tables import Alert
from omnistock.web.i18n import Formats, Text
from omnistock.web.wording import AlertWords, error_detail, hold_cause, hold_reason

ZH, EN = Text("zh_CN"), Text("en")
ZONE = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(("stored", "chinese"), [
    # services.orders._shortfall_reason
    ("insufficient_stock: A wanted 3, reservable 1, B wanted 2, reservable 0",
     "库存不足：A：需要 3，可预占 1；B：需要 2，可预占 0"),
    # money.presale: the same, and the pre-sale cover gone
    ("insufficient_stock: A wanted 3, reservable 1; its pre-sale cover is gone (PO-7 cancelled)",
     "库存不足：A：需要 3，可预占 1；预售备货已不足"),
    # services.ledger: a count or adjustment took stock that was reserved
    ("stock_shortfall: TEA-001 at S1 fell below what was reserved", "库存短缺：TEA-001 在 S1 的库存低于已预占数量"),
    # sync.intake
    ("unmapped: platform item(s) 7001, 7002 map to no SKU", "未映射：平台商品 7001, 7002 没有对应的 SKU"),
    # watch.holds.drift_hold
    ("drift: A shows nothing on jd, should show 5 (reconciliation #12); held until the difference is gone",
     "平台库存不一致：A 在 jd 显示 无，应显示 5（对账 #12）；差异消除前挂起"),
    ("drift: A shows 40 on jd, should show 5 (reconciliation #12); held until the difference is gone",
     "平台库存不一致：A 在 jd 显示 40，应显示 5（对账 #12）；差异消除前挂起"),
    # watch.holds.unusual_quantity
    ("unusual_quantity: A qty 500 is over 10x the usual 3.2 (last 30 days); released by hand once checked",
     "数量异常：A × 500 超过平常 3.2 的 10 倍（近 30 天）；核实后请手动释放"),
])
def test_every_hold_reason_the_services_write_is_said_in_chinese(stored: str, chinese: str) -> None:
    assert hold_reason(ZH, stored) == chinese


def test_a_hold_reason_of_unknown_cause_or_shape_is_shown_as_stored() -> None:
    assert hold_reason(ZH, "customs: waiting for papers") == "customs: waiting for papers"
    assert hold_reason(ZH, "drift: something else entirely") == "drift: something else entirely"
    assert hold_reason(ZH, None) == ""
    assert hold_cause(ZH, "insufficient_stock: A wanted 3, reservable 1") == "库存不足"
    assert hold_cause(EN, "customs: waiting") == "customs: waiting"


def _alert(kind: str, detail: dict[str, object], message: str = "stored text") -> Alert:
    return Alert(kind=kind, severity="warning", condition=kind, message=message, detail=detail, sku_id=1,
                 channel_id=2)


NAMES = Names(skus={1: "TEA-001"}, channels={2: "jd"}, locations={})


@pytest.mark.parametrize(("kind", "detail", "chinese"), [
    ("low_stock", {"available": 2, "threshold": 5, "daily_sales": 0.0, "cover_days": None},
     "TEA-001 库存低：可售 2（阈值 5）"),
    ("low_stock", {"available": 30, "threshold": 5, "daily_sales": 12.5, "cover_days": 2.4},
     "TEA-001 库存低：可售 30，按每天 12.5 件只够 2.4 天"),
    ("drift", {"listings": [{"external_id": "7001", "kind": "drift", "expected": 10, "platform": 3}], "count": 1},
     "jd：TEA-001（7001）显示 3，应显示 10"),
    ("drift", {"listings": [{"external_id": "7001", "kind": "missing", "expected": 10, "platform": None}],
               "count": 1}, "jd：TEA-001 的商品 7001 在平台上已不存在"),
    ("drift", {"listings": [{"external_id": "7001", "kind": "overrun", "units": 2}], "count": 1},
     "jd：TEA-001（7001）多卖了 2 件，超出 omnistock 分配的数量：平台上的库存被改动过"),
    ("drift", {"skus": 7}, "jd：另有 7 个 SKU 的库存与应显示的不一致"),
    ("sync_failing", {"breaker": "open"}, "jd：熔断已打开，平台持续出错"),
    ("sync_failing", {"backlog": 4, "oldest_seconds": 420}, "jd：4 个变更等待推送，最久的已等 7分钟"),
    ("webhook_signature", {"last_client": "10.0.0.9"}, "jd：收到签名错误的 Webhook 推送（最近一次来自 10.0.0.9）"),
    ("oversell", {"external_id": "TB-1", "reason": "insufficient_stock: TEA-001 wanted 2, reservable 0"},
     "jd 订单 TB-1 超卖：无法预占库存（库存不足：TEA-001：需要 2，可预占 0）"),
])
def test_alerts_are_said_from_their_detail(kind: str, detail: dict[str, object], chinese: str) -> None:
    assert AlertWords(ZH, Formats("zh_CN", ZONE))(_alert(kind, detail), NAMES) == chinese


def test_an_alert_of_unknown_kind_or_detail_shows_its_stored_message() -> None:
    words = AlertWords(ZH, Formats("zh_CN", ZONE))
    assert words(_alert("made_up", {}), NAMES) == "stored text"
    assert words(_alert("drift", {"listings": []}), NAMES) == "stored text"  # an older, other shape
    assert words(_alert("low_stock", {"available": "many"}), NAMES) == "stored text"


def test_errors_with_values_are_said_in_full_others_keep_the_services_words() -> None:
    short = InsufficientStock([Shortfall("A", 3, 1)])
    assert error_detail(short, ZH) == "A：需要 3，可预占 1"
    refused = PlatformAuthFailed("the access token was refused (401)")
    assert error_detail(refused, ZH) == "平台拒绝了凭证: the access token was refused (401)"
    assert error_detail(Invalid("unknown SKU 'ZZZ'"), ZH) == "unknown SKU 'ZZZ'"
