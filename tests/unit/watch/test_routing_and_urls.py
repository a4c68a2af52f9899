"""Which notifier takes which alert, and which addresses a notifier may post to."""

from __future__ import annotations

import pytest

from omnistock.errors import Invalid
from omnistock.watch.notify import routed
from omnistock.watch.urlguard import check_url


def test_a_notifier_without_routes_takes_everything() -> None:
    assert routed(None, "oversell", "jd", None) and routed({}, "report", None, None)


def test_kinds_filter_alert_kinds() -> None:
    assert routed({"kinds": ["drift"]}, "drift", "jd", None)
    assert not routed({"kinds": ["drift"]}, "oversell", "jd", None)


def test_a_store_manager_sees_their_channels_or_their_location() -> None:
    routes = {"channels": ["store1"], "locations": ["S1"]}
    assert routed(routes, "oversell", "store1", None)
    assert routed(routes, "low_stock", None, "S1")
    assert not routed(routes, "oversell", "jd", None)
    assert not routed(routes, "low_stock", None, None)  # stock-wide alerts are not a store's


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/x", "http://10.0.0.5/x", "http://192.168.1.1/x",
                                 "http://[::1]/x", "http://169.254.169.254/latest", "http://0.0.0.0/"])
def test_private_and_loopback_addresses_are_refused_when_forbidden(url: str) -> None:
    with pytest.raises(Invalid) as caught:
        check_url(url, allow_private=False)
    assert caught.value.field == "settings.url"
    assert check_url(url, allow_private=True) == url  # allowed by default: omnistock is self-hosted


def test_public_addresses_and_only_http_urls_are_taken() -> None:
    assert check_url("https://93.184.216.34/robot/send", allow_private=False)
    for bad in ("ftp://example.com/", "example.com/hook", "http:///nohost"):
        with pytest.raises(Invalid):
            check_url(bad, allow_private=True)
