"""OData errors of the emulated 1C bases: status, 1C internal code and text (1C docs 17.4.10).

Codes and texts follow ``fixtures/1c/odata_error_observations.json``: unknown set or property ->
code 6 "Сегмент пути X не найден!"; missing instance -> 404 code 9; bad ``$filter`` -> 400 code 14;
unparsable value -> 400 code 1; malformed JSON and configuration (business) errors -> 500 code -1.
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

METADATA_NS = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"

FILTER_PARSE_TEXT = "Ошибка при разборе опции запроса $filter"
PLUS_IN_QUERY_TEXT = 'Операция не разрешена в предложении "ГДЕ"'
MALFORMED_JSON_TEXT = "Непредвиденный символ при чтении JSON"
INTERNAL_TEXT = "Произошла внутренняя ошибка OData сервиса..."


class ODataError(Exception):
    """An error answer: HTTP status, the 1C internal error code (a string) and the message text."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} [{code}] {message}")
        self.status = status
        self.code = code
        self.message = message

    def json_body(self) -> bytes:
        body = {"odata.error": {"code": self.code, "message": {"lang": "ru", "value": self.message}}}
        return json.dumps(body, ensure_ascii=False).encode("utf-8")

    def xml_body(self) -> bytes:
        text = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<m:error xmlns:m="{METADATA_NS}">'
            f"<m:code>{escape(self.code)}</m:code>"
            f'<m:message xml:lang="ru">{escape(self.message)}</m:message>'
            "</m:error>"
        )
        return text.encode("utf-8")


def path_segment_not_found(name: str, status: int = 400) -> ODataError:
    return ODataError(status, "6", f"Сегмент пути {name} не найден!")


def not_found(object_name: str) -> ODataError:
    return ODataError(404, "9", f'Экземпляр сущности "{object_name}" не найден по переданному ключу.')


def filter_error() -> ODataError:
    return ODataError(400, "14", FILTER_PARSE_TEXT)


def option_error(option: str) -> ODataError:
    return ODataError(400, "14", f"Ошибка при разборе опции запроса {option}")


def plus_in_query() -> ODataError:
    return ODataError(500, "-1", PLUS_IN_QUERY_TEXT)


def malformed_json() -> ODataError:
    return ODataError(500, "-1", MALFORMED_JSON_TEXT)


def internal_error() -> ODataError:
    return ODataError(500, "-1", INTERNAL_TEXT)


def business_error(text: str) -> ODataError:
    """A refusal raised by configuration code (ПередЗаписью, ОбработкаПроведения ...): 500 with code -1."""
    return ODataError(500, "-1", text)


def method_not_found() -> ODataError:
    return ODataError(400, "6", "Метод не найден")


def method_not_allowed() -> ODataError:
    return ODataError(405, "19", "HTTP метод не поддерживается для данного ресурса")


def bad_key(text: str) -> ODataError:
    return ODataError(400, "7", text)
