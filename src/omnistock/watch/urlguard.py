"""Where notifiers may post: any public address, and loopback or private networks unless the merchant forbids
them (OMNISTOCK_NOTIFY_ALLOW_PRIVATE=false), since omnistock is self-hosted and chat servers often are too."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from omnistock.errors import Invalid


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return bool(ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_multicast
                or ip.is_unspecified)


def addresses(host: str) -> list[str]:
    """Every address a host name resolves to (an IP literal resolves to itself)."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror as exc:
        raise Invalid(f"host {host!r} does not resolve ({exc.strerror})", field="settings.url") from exc
    return sorted({str(info[4][0]) for info in infos})


def check_host(host: str, allow_private: bool, field: str = "settings.url") -> None:
    if allow_private:
        return
    for address in addresses(host):
        if _private(address):
            raise Invalid(f"{host} is a loopback or private address ({address}), which "
                          "OMNISTOCK_NOTIFY_ALLOW_PRIVATE=false forbids", field=field)


def check_url(url: str, allow_private: bool, field: str = "settings.url") -> str:
    """The URL itself when it is an http(s) URL to an allowed host; Invalid naming `field` otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("url must be a full http:// or https:// URL", field=field)
    check_host(parts.hostname, allow_private, field)
    return url
