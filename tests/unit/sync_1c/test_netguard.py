"""The SSRF guard: every resolved address is checked; only an operator may allow private networks."""

from __future__ import annotations

from typing import Any

import pytest

from b24app.errors import ConfigError
from b24app.sync_1c.netguard import check_url


def resolver(*addresses: str) -> Any:
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(("url", "why"), [
    ("http://127.0.0.1/bp/odata/standard.odata/", "loopback"),
    ("http://[::1]:8080/x", "loopback"),
    ("http://10.0.1.22/1c/odata/standard.odata/", "private"),
    ("https://192.168.1.5/x", "private"),
    ("http://172.20.0.3/x", "private"),
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ("http://169.254.10.1/x", "link-local"),
    ("http://100.64.0.9/x", "private"),
    ("http://0.0.0.0/x", "reserved"),
    ("http://[::ffff:127.0.0.1]/x", "loopback"),
])
def test_private_and_metadata_addresses_are_refused(url: str, why: str) -> None:
    with pytest.raises(ConfigError) as exc:
        check_url(url, False)
    assert why in exc.value.message and "B24APP_ALLOW_PRIVATE_NETWORKS=1" in exc.value.message


def test_a_name_is_resolved_and_every_address_checked() -> None:
    check_url("https://1c.metalprom.ru/bp/odata/standard.odata/", False, resolver=resolver("93.184.216.34"))
    with pytest.raises(ConfigError, match="10.0.0.7"):
        check_url("https://1c.metalprom.ru/bp/", False, resolver=resolver("93.184.216.34", "10.0.0.7"))
    with pytest.raises(ConfigError, match="loopback"):
        check_url("http://localtest.me/x", False, resolver=resolver("127.0.0.1"))
    with pytest.raises(ConfigError, match="metadata"):
        check_url("http://metadata.google.internal/computeMetadata/v1/", False)


def test_the_operator_may_allow_private_networks() -> None:
    check_url("http://127.0.0.1:8900/onec/x/odata/standard.odata/", True)
    check_url("http://10.0.1.22/1c/odata/standard.odata/", True)


@pytest.mark.parametrize(("url", "text"), [
    ("ftp://1c.example/x", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("http:///nohost", "no host"),
    ("http://user:pw@1c.example/x", "not the URL"),
    ("http://[::1/x", "malformed"),
])
def test_urls_that_are_not_plain_http_are_refused(url: str, text: str) -> None:
    with pytest.raises(ConfigError, match=text):
        check_url(url, True)


def test_an_unresolvable_host_is_a_clear_error() -> None:
    def fail(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(ConfigError, match="DNS"):
        check_url("http://no-such-host.invalid/x", False, resolver=fail)
