"""A client of the ``B24Exchange`` SOAP web service published in a 1C base, over zeep.

- Basic auth from UTF-8 bytes on a ``requests`` session, timeouts for the WSDL and for operations;
- the endpoint address is overridable: 1C writes into the WSDL the host it was published under
  (often an internal name), so unless settings give an ``address`` the endpoint is taken from the
  WSDL URL we were given when the advertised host differs (1c-integration.md §4);
- every operation answers ``return`` (a string holding JSON) and the Out parameter ``ErrorMessage``:
  a non-empty ``ErrorMessage`` is a 1C business refusal (code ``-1``); a SOAP Fault is an exception in
  the web-service module (also ``-1``, unless it is a lock conflict: retried); HTTP errors and HTML
  pages map like OData's.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from lxml import etree
from zeep import Client, Settings
from zeep.exceptions import Fault, XMLSyntaxError
from zeep.exceptions import TransportError as ZeepTransportError
from zeep.transports import Transport

from b24app.errors import ConfigError, OneCError, TransportError
from b24app.sync_1c.netguard import check_url
from b24app.sync_1c.odata import basic_auth, is_lock_conflict

SERVICE_NS = "http://b24app.ru/1c/B24Exchange"
BINDING = f"{{{SERVICE_NS}}}B24ExchangeSoapBinding"


class _Utf8Basic(requests.auth.AuthBase):
    def __init__(self, user: str, password: str) -> None:
        self.header = basic_auth(user, password)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = self.header
        return r


def endpoint_for(wsdl_url: str, advertised: str, override: str = "") -> str:
    """The address to call: the override, else the advertised one when it is on the WSDL's host,
    else the WSDL URL without ``?wsdl`` (1C publishes ``<name>.1cws`` there)."""
    if override:
        return override
    w, a = urlsplit(wsdl_url), urlsplit(advertised or "")
    if advertised and (a.scheme, a.netloc) == (w.scheme, w.netloc):
        return advertised
    return urlunsplit((w.scheme, w.netloc, w.path, "", ""))


class _GuardedTransport(Transport):
    """zeep loads the WSDL and every document it imports (``xsd:import``, ``wsdl:import``) through
    :meth:`load`: each URL passes the SSRF guard (a public WSDL must not make the server fetch an
    internal or a local ``file:`` document), and the session follows no redirect (a public address
    answering 302 to an internal one)."""

    def __init__(self, *args: Any, allow_private: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allow_private = allow_private

    def load(self, url: str) -> bytes:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ConfigError(f"the WSDL names the document {url!r}: only http(s) documents are loaded "
                              f"/ описание веб-сервиса ссылается на локальный документ")
        check_url(url, self.allow_private)
        return super().load(url)


class SoapClient:
    """One base's ``B24Exchange`` service."""

    def __init__(self, wsdl_url: str, user: str, password: str, *, address: str = "", timeout: float = 30.0,
                 allow_private: bool = False) -> None:
        check_url(wsdl_url, allow_private)
        if address:
            check_url(address, allow_private)
        session = requests.Session()
        session.trust_env = False
        session.max_redirects = 0  # a redirect raises: its target never passed the guard
        session.auth = _Utf8Basic(user, password)
        transport = _GuardedTransport(session=session, timeout=timeout, operation_timeout=timeout,
                                      allow_private=allow_private)
        try:
            self.client = Client(wsdl_url, transport=transport,
                                 settings=Settings(strict=False, xml_huge_tree=True, force_https=False))
        except requests.Timeout as exc:
            raise TransportError(f"1C WSDL {wsdl_url}: no answer within {timeout:.0f} s") from exc
        except requests.HTTPError as exc:  # zeep fetches the WSDL with raise_for_status()
            resp = exc.response
            raise _http_error(resp.status_code if resp is not None else 0,
                              resp.content if resp is not None else b"", "WSDL") from exc
        except requests.RequestException as exc:
            raise TransportError(f"1C WSDL {wsdl_url}: {exc.__class__.__name__}: {exc}") from exc
        except ZeepTransportError as exc:
            raise _transport_error(exc, "WSDL") from exc
        except (XMLSyntaxError, etree.XMLSyntaxError, ValueError) as exc:
            raise OneCError(f"1C WSDL {wsdl_url} is not a WSDL (an HTML page? wrong user, password or "
                            f"publication): {exc} / вместо описания веб-сервиса пришла другая страница",
                            code="html_answer", status=200) from exc
        advertised = ""
        for service in self.client.wsdl.services.values():
            for port in service.ports.values():
                if port.binding.name.localname == "B24ExchangeSoapBinding":
                    advertised = port.binding_options.get("address", "")
        self.address = endpoint_for(wsdl_url, advertised, address)
        check_url(self.address, allow_private)
        self.service = self.client.create_service(BINDING, self.address)

    def call(self, op: str, **params: Any) -> Any:
        """Run an operation; returns the parsed JSON of ``return``."""
        try:
            resp = getattr(self.service, op)(**params)
        except Fault as exc:
            text = str(exc.message or "")
            code = "lock" if is_lock_conflict(text) else "-1"
            raise OneCError(f"1C {op}: SOAP fault: {text}", code=code, status=500) from exc
        except ZeepTransportError as exc:
            raise _transport_error(exc, op) from exc
        except requests.Timeout as exc:
            raise TransportError(f"1C {op}: no answer in time") from exc
        except requests.RequestException as exc:
            raise TransportError(f"1C {op}: {exc.__class__.__name__}: {exc}") from exc
        except (XMLSyntaxError, etree.XMLSyntaxError) as exc:
            raise OneCError(f"1C {op}: the answer is not SOAP XML: {exc}", code="html_answer", status=200) from exc
        error = _field(resp, "ErrorMessage")
        if error:
            raise OneCError(f"1C {op}: {error}", code="-1", status=500)
        raw = _field(resp, "return")
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise OneCError(f"1C {op}: 'return' is not JSON: {str(raw)[:200]}", code="bad_answer", status=200) from exc


def _field(resp: Any, name: str) -> Any:
    if isinstance(resp, dict):
        return resp.get(name)
    try:
        return resp[name]
    except (KeyError, TypeError, IndexError):
        return getattr(resp, name, None)


def _transport_error(exc: ZeepTransportError, what: str) -> Exception:
    return _http_error(getattr(exc, "status_code", None) or 0, getattr(exc, "content", b"") or b"", what,
                       str(exc))


def _http_error(status: int, content: bytes | str, what: str, fallback: str = "") -> Exception:
    text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else str(content)
    snippet = " ".join(text.split())[:200]
    if status in (401, 403):
        return OneCError(f"1C {what}: HTTP {status}: the user name or password was not accepted ({snippet}) / "
                         "1С не приняла логин или пароль", code="auth", status=status)
    if status >= 500:
        return OneCError(f"1C {what}: HTTP {status}: {snippet}", code="", status=status)
    if status == 404:
        return OneCError(f"1C {what}: HTTP 404: the web service is not published ({snippet}) / веб-сервис не "
                         "опубликован", code="not_published", status=404)
    return OneCError(f"1C {what}: HTTP {status}: {snippet or fallback}", code="", status=status or None)
