"""SSRF guard for URLs that come from settings (1C connection URLs, WSDL addresses).

A portal administrator types a URL; the server then calls it. Without a guard that URL could make
the server talk to its own loopback services, the private network behind it or a cloud metadata
endpoint (169.254.169.254). :func:`check_url` resolves the host and checks *every* address it
resolves to; only an operator (``B24APP_ALLOW_PRIVATE_NETWORKS=1``, config ``allow_private_networks``)
may allow private targets, e.g. for a 1C server in the office network or the sandbox on loopback.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from b24app.errors import ConfigError

Resolver = Callable[[str, int], list[str]]

# Metadata endpoints of cloud providers that are not covered by "link-local"/"private" checks.
METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data", "metadata.azure.internal"}
METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
                      ipaddress.ip_address("100.100.100.200")}


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def _forbidden(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why ``addr`` is not a public address (None when it is)."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return _forbidden(addr.ipv4_mapped)
    if addr in METADATA_ADDRESSES:
        return "cloud metadata"
    if addr.is_unspecified:
        return "reserved"  # 0.0.0.0 / :: reach this very host
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if addr.is_private or (isinstance(addr, ipaddress.IPv4Address) and addr in ipaddress.ip_network("100.64.0.0/10")):
        return "private"
    if addr.is_unspecified or addr.is_multicast or addr.is_reserved:
        return "reserved"
    return None


def check_url(url: str, allow_private: bool, *, resolver: Resolver | None = None) -> None:
    """Raise :class:`ConfigError` unless ``url`` is an http(s) URL whose host resolves only to
    public addresses (or ``allow_private`` is set). The host is resolved here, so a name that
    points at 127.0.0.1 is caught as well as a literal address."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"URL {url!r} is malformed: {exc} / адрес записан с ошибкой") from exc
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"URL {url!r}: only http and https are allowed / разрешены только http и https")
    host = (parts.hostname or "").strip().lower()
    if not host:
        raise ConfigError(f"URL {url!r} has no host / в адресе нет имени сервера")
    if parts.username or parts.password:
        raise ConfigError(f"URL {url!r}: put the user and password into the connection fields, not the URL / "
                          "логин и пароль указываются в полях подключения, а не в адресе")
    if allow_private:
        return
    if host in METADATA_HOSTS:
        raise ConfigError(f"URL {url!r} points at a cloud metadata service / адрес ведёт на служебный сервис облака")
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
        addresses = [str(literal)]
    except ValueError:
        try:
            addresses = (resolver or _resolve)(host, port or (443 if parts.scheme == "https" else 80))
        except (OSError, UnicodeError) as exc:
            raise ConfigError(f"host {host!r} cannot be resolved (DNS): {exc} / имя сервера не найдено в DNS") from exc
    if not addresses:
        raise ConfigError(f"host {host!r} resolves to no address / имя сервера не разрешается в адрес")
    for text in addresses:
        why = _forbidden(ipaddress.ip_address(text.split("%", 1)[0]))
        if why:
            raise ConfigError(
                f"URL {url!r} resolves to {text} ({why} address): refused; an operator may allow private "
                f"networks with B24APP_ALLOW_PRIVATE_NETWORKS=1 / адрес {text} — внутренний ({why}); "
                "обращение запрещено, разрешить может администратор сервера (B24APP_ALLOW_PRIVATE_NETWORKS=1)"
            )
