"""Reply templates: the built-in ones in Chinese and English, a merchant's own from the knowledge base,
and rendering with the case's variables in a sandbox (a template is merchant input, not code)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.care.tables import CareArticle, CareCase
from omnistock.errors import Invalid, NotFound

VARIABLES = ("customer_name", "order", "order_id", "channel", "sku", "skus", "cause", "compensation", "case_id",
             "incident")


@dataclass(frozen=True)
class Template:
    key: str
    locale: str
    subject: str
    body: str
    built_in: bool


_BUILT_IN: dict[tuple[str, str], tuple[str, str]] = {
    ("oversell_apology", "zh"): (
        "关于您的订单 {{ order }}",
        "{{ customer_name }}，您好：\n\n非常抱歉，您在{{ channel }}订购的商品 {{ skus }} 暂时缺货，订单 {{ order }} "
        "无法按时发出。我们已在加急补货，并会第一时间通知您。"
        "{% if compensation %}\n\n为表歉意，我们将为您提供：{{ compensation }}。{% endif %}\n\n"
        "如您希望取消订单或有其他需要，请直接回复本消息。"),
    ("oversell_apology", "en"): (
        "About your order {{ order }}",
        "Dear {{ customer_name }},\n\nWe are sorry: {{ skus }} from your order {{ order }} on {{ channel }} is "
        "out of stock, so we cannot ship it on time. We are restocking and will tell you as soon as it ships."
        "{% if compensation %}\n\nTo make up for it we offer you: {{ compensation }}.{% endif %}\n\n"
        "If you would rather cancel, or need anything else, just reply to this message."),
    ("compensation_offer", "zh"): (
        "订单 {{ order }} 的补偿",
        "{{ customer_name }}，您好：\n\n就订单 {{ order }} 给您带来的不便，我们为您提供：{{ compensation }}。"
        "再次向您致歉。"),
    ("compensation_offer", "en"): (
        "Compensation for order {{ order }}",
        "Dear {{ customer_name }},\n\nFor the trouble with order {{ order }} we offer you: {{ compensation }}. "
        "Our apologies again."),
    ("incident_update", "zh"): (
        "订单 {{ order }} 最新进展",
        "{{ customer_name }}，您好：\n\n关于订单 {{ order }}（{{ skus }}）的问题，我们已找到原因并正在处理。"
        "有进一步消息会马上通知您。"),
    ("incident_update", "en"): (
        "An update on order {{ order }}",
        "Dear {{ customer_name }},\n\nWe found what went wrong with order {{ order }} ({{ skus }}) and are "
        "fixing it. We will write again as soon as we know more."),
    ("case_resolved", "zh"): (
        "订单 {{ order }} 的问题已处理",
        "{{ customer_name }}，您好：\n\n订单 {{ order }} 的问题已处理完毕。感谢您的耐心，如仍有疑问请随时联系我们。"),
    ("case_resolved", "en"): (
        "Order {{ order }}: resolved",
        "Dear {{ customer_name }},\n\nThe issue with order {{ order }} is resolved. Thank you for your patience; "
        "write to us any time if something is still not right."),
}

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


def built_in_keys() -> list[str]:
    return sorted({key for key, _ in _BUILT_IN})


def find_template(session: Session, key: str, locale: str) -> Template:
    """The merchant's template `key` in `locale` from the knowledge base, else the built-in one."""
    row = session.scalar(select(CareArticle).where(CareArticle.kind == "template", CareArticle.key == key,
                                                   CareArticle.locale == locale))
    if row is not None:
        return Template(key, locale, row.subject or row.title, row.body, False)
    built_in = _BUILT_IN.get((key, locale))
    if built_in is None:
        raise NotFound(f"no template {key!r} in {locale!r}", field="template")
    return Template(key, locale, built_in[0], built_in[1], True)


def all_templates(session: Session) -> list[Template]:
    """Every template in effect: the merchant's, and the built-in ones they did not replace."""
    own = {(r.key, r.locale): r for r in session.scalars(select(CareArticle).where(CareArticle.kind == "template"))
           if r.key}
    out = [Template(k, loc, r.subject or r.title, r.body, False) for (k, loc), r in own.items() if k]
    out += [Template(k, loc, s, b, True) for (k, loc), (s, b) in _BUILT_IN.items() if (k, loc) not in own]
    return sorted(out, key=lambda t: (t.key, t.locale))


def check_syntax(text: str, *, field: str) -> None:
    """Refuse a template that does not parse, naming the field."""
    try:
        _env.parse(text)
    except TemplateError as exc:
        raise Invalid(f"template does not parse: {exc}", field=field) from None


def render(text: str, variables: Mapping[str, Any], *, field: str = "template") -> str:
    try:
        return _env.from_string(text).render(**variables).strip()
    except TemplateError as exc:
        raise Invalid(f"template cannot be filled: {exc} (variables: {', '.join(VARIABLES)})",
                      field=field) from None


_KIND_WORDS = {
    "zh": {"coupon": "{amount} {currency} 优惠券", "partial_refund": "部分退款 {amount} {currency}",
           "full_refund": "全额退款 {amount} {currency}", "reship": "免费补发商品", "gift": "赠品一份"},
    "en": {"coupon": "a coupon of {amount} {currency}", "partial_refund": "a refund of {amount} {currency}",
           "full_refund": "a full refund of {amount} {currency}", "reship": "the goods sent again at our cost",
           "gift": "a gift"},
}


def describe_compensation(kind: str, amount: Decimal, currency: str, locale: str) -> str:
    words = _KIND_WORDS.get(locale, _KIND_WORDS["en"])
    return words.get(kind, "{amount} {currency}").format(amount=amount, currency=currency)


def variables_for(case: CareCase, *, compensation: str | None = None, incident: str | None = None) -> dict[str, Any]:
    fallback_name = "顾客" if case.locale == "zh" else "customer"
    skus = ", ".join(case.skus) if case.skus else ""
    return {
        "customer_name": case.customer_name or fallback_name,
        "order": case.external_order_id or (f"#{case.order_id}" if case.order_id else ""),
        "order_id": case.order_id,
        "channel": case.channel or "",
        "sku": case.skus[0] if case.skus else "",
        "skus": skus,
        "cause": case.cause or "",
        "compensation": compensation or "",
        "case_id": case.id,
        "incident": incident or "",
    }
