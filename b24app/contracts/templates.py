"""Document templates: the shipped Russian defaults (built from code) and the administrator's own.

The six default templates are generated with python-docx when first asked for (then kept in memory per
process): a reviewable text in this module instead of opaque binaries in the repository, and the same
bytes on every machine. ``b24app contracts template --type prepayment --out supply.docx`` writes one out
so an administrator can edit it in Word and upload it through the settings (``contracts.templates``).

Templates are docxtpl (Jinja2) documents. What a template may use (see docs/contracts.md for every field):

``contract``  number, date (ISO), date_text («05» октября 2026 г.), date_short, year, type, type_label, title
``seller``    our legal entity: name, full_name, inn, kpp, ogrn, ogrn_label, address, city, director,
              director_short, director_position, acting, accountant, phone, email, bank.{name,bik,account,
              corr_account}, code
``buyer``     the client company: the same fields, is_ip
``contact``   the deal's contact (or None): full_name, post, phone, email
``deal``      id, title, amount, currency
``rows``      product rows: n, name, article, quantity, measure, price, sum, vat_rate, vat_sum
``totals``    sum, sum_words, vat, vat_line, vat_words, without_vat, count, currency (руб., долл. США ...)
``terms``     the type's terms (prepayment_days, deferral_days, ...) and payment_text
``claim``     for pre-trial claims: debt, debt_words, base (the contract the claim is about)
``manager``   the deal's responsible: full_name, phone, email
``extra``     values the caller passed (e.g. the stages feature: debt, invoice numbers)

Table rows repeat with ``{%tr for r in rows %}`` ... ``{%tr endfor %}`` (docxtpl's row tags).
"""

from __future__ import annotations

import base64
import binascii
import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

CONTEXT_NAMES = frozenset(
    {
        "contract",
        "seller",
        "buyer",
        "contact",
        "deal",
        "rows",
        "totals",
        "terms",
        "claim",
        "manager",
        "extra",
    }
)

MAX_TEMPLATE_BYTES = 5 * 1024 * 1024

_cache: dict[str, bytes] = {}
_lock = threading.Lock()


# --- building blocks --------------------------------------------------------------------------------


def _new() -> DocumentObject:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(3)
    for section in doc.sections:
        section.left_margin = Cm(2.5)
        section.right_margin = Cm(1.5)
        section.top_margin = Cm(1.5)
        section.bottom_margin = Cm(1.5)
    return doc


def _p(
    doc: DocumentObject, text: str = "", *, bold: bool = False, align: Any = None, size: int | None = None
) -> None:
    para = doc.add_paragraph()
    run = para.add_run(text)  # one run per placeholder text: docxtpl needs the tag in one run
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    if align is not None:
        para.alignment = align
    else:
        para.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY


def _title(doc: DocumentObject, text: str) -> None:
    _p(doc, text, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, size=13)


def _heading(doc: DocumentObject, text: str) -> None:
    _p(doc, text, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)


def _place_and_date(doc: DocumentObject) -> None:
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    left.paragraphs[0].add_run("г. {{ seller.city }}")
    right.paragraphs[0].add_run("{{ contract.date_text }}")
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _products(doc: DocumentObject) -> None:
    headers = (
        "№",
        "Наименование товара",
        "Кол-во",
        "Ед.",
        "Цена, {{ totals.currency }}",
        "Сумма, {{ totals.currency }}",
        "НДС",
    )
    cells = (
        "{{ r.n }}",
        "{{ r.name }}",
        "{{ r.quantity }}",
        "{{ r.measure }}",
        "{{ r.price }}",
        "{{ r.sum }}",
        "{{ r.vat_rate }}",
    )
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.paragraphs[0].add_run(text).bold = True
    table.rows[1].cells[0].paragraphs[0].add_run("{%tr for r in rows %}")
    for cell, text in zip(table.rows[2].cells, cells, strict=True):
        cell.paragraphs[0].add_run(text)
    table.rows[3].cells[0].paragraphs[0].add_run("{%tr endfor %}")
    _p(doc, "Итого: {{ totals.sum }} {{ totals.currency }}", bold=True, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _p(doc, "{{ totals.vat_line }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _p(
        doc,
        "Всего наименований {{ totals.count }}, на сумму {{ totals.sum }} {{ totals.currency }} "
        "({{ totals.sum_words }}).",
    )


_PARTY_LINES = (
    "{{ %(p)s.name }}",
    "ИНН {{ %(p)s.inn }}{%% if %(p)s.kpp %%}, КПП {{ %(p)s.kpp }}{%% endif %%}",
    "{{ %(p)s.ogrn_label }} {{ %(p)s.ogrn }}",
    "Адрес: {{ %(p)s.address }}",
    "Р/с {{ %(p)s.bank.account }}",
    "в {{ %(p)s.bank.name }}",
    "К/с {{ %(p)s.bank.corr_account }}, БИК {{ %(p)s.bank.bik }}",
    "",
    "{{ %(p)s.director_position }}",
    "_______________ / {{ %(p)s.director_short }} /",
)


def _requisites(doc: DocumentObject, left_role: str, right_role: str, heading: str) -> None:
    _heading(doc, heading)
    table = doc.add_table(rows=1, cols=2)
    for cell, role, party in zip(
        table.rows[0].cells, (left_role, right_role), ("seller", "buyer"), strict=True
    ):
        cell.paragraphs[0].add_run(role).bold = True
        for line in _PARTY_LINES:
            cell.add_paragraph().add_run(line % {"p": party})


def _preamble(
    doc: DocumentObject, seller_role: str, buyer_role: str, what: str = "настоящий договор"
) -> None:
    text = (
        "{{ seller.full_name }} (далее — «SELLER»), {{ seller.acting }}, с одной стороны, и {{ "
        "buyer.full_name }} "
        "(далее — «BUYER»), {{ buyer.acting }}, с другой стороны, вместе именуемые «Стороны», заключили WHAT "
        "о нижеследующем:"
    )
    _p(doc, text.replace("SELLER", seller_role).replace("BUYER", buyer_role).replace("WHAT", what))


def _clauses(doc: DocumentObject, lines: list[str]) -> None:
    for line in lines:
        if line.isupper():  # "1. ПРЕДМЕТ ДОГОВОРА"
            _heading(doc, line)
        else:
            _p(doc, line)


# --- the six documents ------------------------------------------------------------------------------


_GEN = {"Поставщик": "Поставщика", "Покупатель": "Покупателя", "Заказчик": "Заказчика", "Дилер": "Дилера"}


def _supply(
    title: str,
    extra_subject: list[str],
    delivery: str,
    term: str,
    seller_role: str = "Поставщик",
    buyer_role: str = "Покупатель",
    what: str = "настоящий договор",
) -> Callable[[], DocumentObject]:
    def build() -> DocumentObject:
        doc = _new()
        _title(doc, f"{title} № {{{{ contract.number }}}}")
        _place_and_date(doc)
        _preamble(doc, seller_role, buyer_role, what)
        _clauses(
            doc,
            [
                "1. ПРЕДМЕТ ДОГОВОРА",
                f"1.1. {seller_role} обязуется передать в собственность {_GEN[buyer_role]} товар, а "
                f"{buyer_role} — принять "
                "и оплатить его на условиях настоящего договора.",
                "1.2. Наименование, количество, цена и стоимость товара указаны в спецификации (раздел 2).",
                *extra_subject,
                "2. СПЕЦИФИКАЦИЯ",
            ],
        )
        _products(doc)
        _clauses(
            doc,
            [
                "3. ЦЕНА И ПОРЯДОК РАСЧЁТОВ",
                "3.1. Цена договора составляет {{ totals.sum }} {{ totals.currency }} ({{ totals.sum_words "
                "}}), "
                "{{ totals.vat_line }}",
                "3.2. {{ terms.payment_text }}",
                "3.3. Обязательство по оплате считается исполненным с даты зачисления денежных средств на "
                f"расчётный "
                f"счёт {_GEN[seller_role]}.",
                "4. ПОСТАВКА",
                delivery,
                "4.2. Право собственности и риск случайной гибели товара переходят в момент подписания "
                "товарной накладной (УПД).",
                "{% if contact %}4.3. Контактное лицо " + _GEN[buyer_role] + ": {{ contact.full_name }}"
                "{% if contact.post %} ({{ contact.post }}){% endif %}{% if contact.phone %}, "
                "тел. {{ contact.phone }}{% endif %}"
                "{% if contact.email %}, e-mail {{ contact.email }}{% endif %}."
                "{% endif %}",
                "5. ОТВЕТСТВЕННОСТЬ СТОРОН",
                f"5.1. За просрочку оплаты {buyer_role} уплачивает пени в размере {{{{ "
                f"terms.penalty_percent }}}} % "
                "от неоплаченной суммы за каждый день просрочки.",
                "5.2. Споры разрешаются переговорами с соблюдением претензионного порядка (срок ответа на "
                "претензию — "
                f"10 календарных дней), а при недостижении согласия — в арбитражном суде по месту нахождения "
                f"{_GEN[seller_role]}.",
                "6. СРОК ДЕЙСТВИЯ",
                term,
            ],
        )
        _requisites(doc, seller_role, buyer_role, "7. АДРЕСА И РЕКВИЗИТЫ СТОРОН")
        return doc

    return build


def _dealer() -> DocumentObject:
    doc = _new()
    _title(doc, "ДИЛЕРСКИЙ ДОГОВОР № {{ contract.number }}")
    _place_and_date(doc)
    _preamble(doc, "Поставщик", "Дилер")
    _clauses(
        doc,
        [
            "1. ПРЕДМЕТ ДОГОВОРА",
            "1.1. Поставщик поставляет, а Дилер приобретает продукцию Поставщика для её дальнейшей "
            "реализации на "
            "территории: {{ terms.territory }}.",
            "1.2. Поставки производятся партиями по заявкам Дилера; наименование, количество и цена каждой "
            "партии "
            "указываются в счёте и товарной накладной (УПД).",
            "2. ЦЕНЫ И СКИДКИ",
            "2.1. Дилеру предоставляется скидка {{ terms.discount_percent }} % от цен действующего "
            "прайс-листа "
            "Поставщика.",
            "3. ПОРЯДОК РАСЧЁТОВ",
            "3.1. {{ terms.payment_text }}",
        ],
    )
    _p(doc, "{%p if rows %}")
    _heading(doc, "Первая заявка Дилера")
    _products(doc)
    _p(doc, "{%p endif %}")
    _clauses(
        doc,
        [
            "4. ОБЯЗАННОСТИ СТОРОН",
            "4.1. Дилер продвигает продукцию Поставщика на своей территории и ежеквартально сообщает "
            "Поставщику об "
            "объёмах продаж.",
            "4.2. Поставщик обеспечивает Дилера информационными материалами и сертификатами на продукцию.",
            "5. СРОК ДЕЙСТВИЯ",
            "5.1. Договор действует {{ terms.term_months }} мес. с даты подписания и продлевается на тот же "
            "срок, если "
            "ни одна из Сторон не заявит о его прекращении за 30 дней до окончания срока.",
        ],
    )
    _requisites(doc, "Поставщик", "Дилер", "6. АДРЕСА И РЕКВИЗИТЫ СТОРОН")
    return doc


def _claim() -> DocumentObject:
    doc = _new()
    for line in (
        "Кому: {{ buyer.name }}",
        "ИНН {{ buyer.inn }}{% if buyer.kpp %}, КПП {{ buyer.kpp }}{% endif %}",
        "Адрес: {{ buyer.address }}",
        "",
        "От: {{ seller.name }}",
        "ИНН {{ seller.inn }}{% if seller.kpp %}, КПП {{ seller.kpp }}{% endif %}",
        "Адрес: {{ seller.address }}",
        "Тел.: {{ seller.phone }}",
    ):
        _p(doc, line, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _title(doc, "ДОСУДЕБНАЯ ПРЕТЕНЗИЯ № {{ contract.number }}")
    _p(doc, "от {{ contract.date_text }}", align=WD_ALIGN_PARAGRAPH.CENTER)
    _p(doc, "о погашении задолженности", align=WD_ALIGN_PARAGRAPH.CENTER)
    _clauses(
        doc,
        [
            "Между {{ seller.name }} (Поставщик) и {{ buyer.name }} (Покупатель) заключён {{ claim.base }}. "
            "Поставщик свои обязательства выполнил: товар на сумму {{ totals.sum }} {{ totals.currency }} "
            "({{ totals.sum_words }}) "
            "передан Покупателю.",
            "Покупатель оплату в полном объёме не произвёл. Задолженность Покупателя составляет {{ "
            "claim.debt }} "
            "{{ totals.currency }} "
            "({{ claim.debt_words }}).",
            "На основании статей 309, 310, 486 Гражданского кодекса РФ требуем в течение {{ "
            "terms.claim_days }} "
            "календарных дней с даты получения настоящей претензии перечислить сумму задолженности на "
            "расчётный "
            "счёт {{ seller.bank.account }} в {{ seller.bank.name }}, БИК {{ seller.bank.bik }}, "
            "к/с {{ seller.bank.corr_account }}.",
            "В случае неисполнения требования Поставщик обратится в арбитражный суд с иском о взыскании "
            "долга, "
            "пеней в размере {{ terms.penalty_percent }} % за каждый день просрочки и судебных расходов.",
        ],
    )
    _p(doc, "{%p if rows %}")
    _p(doc, "Переданный товар:")
    _products(doc)
    _p(doc, "{%p endif %}")
    _p(doc, "")
    _p(doc, "{{ seller.director_position }} {{ seller.name }}", align=WD_ALIGN_PARAGRAPH.LEFT)
    _p(doc, "_______________ / {{ seller.director_short }} /", align=WD_ALIGN_PARAGRAPH.LEFT)
    _p(
        doc,
        "Исполнитель: {{ manager.full_name }}{% if manager.phone %}, тел. {{ manager.phone }}{% endif %}",
        align=WD_ALIGN_PARAGRAPH.LEFT,
    )
    return doc


_TERM_SUPPLY = (
    "6.1. Договор вступает в силу с даты подписания и действует до 31 декабря {{ contract.year }} г., "
    "а в части расчётов — до полного исполнения обязательств."
)

BUILDERS: dict[str, Callable[[], DocumentObject]] = {
    "prepayment": _supply(
        "ДОГОВОР ПОСТАВКИ",
        [],
        "4.1. Поставщик отгружает товар в течение {{ terms.delivery_days }} рабочих дней с даты поступления "
        "оплаты.",
        _TERM_SUPPLY,
    ),
    "deferred": _supply(
        "ДОГОВОР ПОСТАВКИ С ОТСРОЧКОЙ ПЛАТЕЖА",
        [],
        "4.1. Поставщик отгружает товар в течение {{ terms.delivery_days }} рабочих дней с даты подписания "
        "договора.",
        _TERM_SUPPLY,
    ),
    "tender": _supply(
        "ДОГОВОР ПОСТАВКИ",
        [
            "1.3. Договор заключён по результатам закупочной процедуры: {{ terms.purchase_ref }}.",
        ],
        "4.1. Поставщик поставляет товар в течение {{ terms.delivery_days }} рабочих дней с даты подписания "
        "договора по адресу Покупателя.",
        _TERM_SUPPLY,
    ),
    "government": _supply(
        "ГОСУДАРСТВЕННЫЙ КОНТРАКТ",
        [
            "1.3. Контракт заключён в соответствии с Федеральным законом от 05.04.2013 № 44-ФЗ «О "
            "контрактной "
            "системе в сфере закупок товаров, работ, услуг для обеспечения государственных и муниципальных "
            "нужд». "
            "Идентификационный код закупки: {{ terms.purchase_ref }}.",
        ],
        "4.1. Поставщик поставляет товар в течение {{ terms.delivery_days }} календарных дней с даты "
        "заключения "
        "контракта; приёмка оформляется документом о приёмке.",
        "6.1. Контракт вступает в силу с даты заключения и действует до 31 декабря {{ contract.year }} г.",
        buyer_role="Заказчик",
        what="настоящий контракт",
    ),
    "dealer": _dealer,
    "claim": _claim,
}


def default_template(code: str) -> bytes:
    """The shipped template of a built-in type (generated once per process)."""
    if code not in BUILDERS:
        raise KeyError(f"no built-in template {code!r}; built-in: {', '.join(BUILDERS)}")
    with _lock:
        data = _cache.get(code)
        if data is None:
            buf = io.BytesIO()
            BUILDERS[code]().save(buf)
            data = _cache[code] = buf.getvalue()
        return data


def jinja_env() -> Any:
    """The Jinja environment of documents: sandboxed (a portal administrator's template must not reach
    Python internals) and escaping values for the document's XML."""
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(autoescape=True)


def template_problem(data: bytes) -> tuple[str, str] | None:
    """Why a .docx cannot serve as a template (Jinja syntax, unknown names), or None."""
    from docxtpl import DocxTemplate
    from jinja2 import TemplateSyntaxError

    try:
        names = DocxTemplate(io.BytesIO(data)).get_undeclared_template_variables(jinja_env())
    except TemplateSyntaxError as exc:
        return (
            f"ошибка в подстановках шаблона (строка {exc.lineno}): {exc.message}",
            f"template placeholder syntax error (line {exc.lineno}): {exc.message}",
        )
    except Exception as exc:  # a damaged document: python-docx/lxml raise many kinds
        return (f"файл не читается как шаблон: {exc}", f"the file cannot be read as a template: {exc}")
    unknown = sorted(set(names) - CONTEXT_NAMES)
    if unknown:
        allowed = ", ".join(sorted(CONTEXT_NAMES))
        return (
            f"неизвестные переменные {', '.join(unknown)}; доступны: {allowed}",
            f"unknown variables {', '.join(unknown)}; available: {allowed}",
        )
    return None


def server_file(path: str) -> tuple[Path | None, tuple[str, str] | None]:
    """A template file named by the settings, only inside the folder the operator allows
    (``B24APP_TEMPLATES_DIR``): a portal administrator must not make the server read, or tell the
    existence of, any other file. Relative paths are taken inside that folder; links out are refused."""
    from b24app.config import Config

    folder = Config.from_env().templates_dir
    if not folder:
        return None, (
            "шаблоны с сервера не разрешены (B24APP_TEMPLATES_DIR не задан): загрузите файл (base64)",
            "templates from the server are not allowed (B24APP_TEMPLATES_DIR is not set): upload the file (base64)",
        )
    root = Path(folder).resolve()
    p = (root / path).resolve()
    if not p.is_relative_to(root):
        return None, (
            f"файл {path} вне папки шаблонов (B24APP_TEMPLATES_DIR)",
            f"file {path} is outside the templates folder (B24APP_TEMPLATES_DIR)",
        )
    if p.suffix.lower() != ".docx" or not p.is_file():
        return None, (
            f"файл {path} (.docx) не найден в папке шаблонов (B24APP_TEMPLATES_DIR)",
            f"file {path} (.docx) not found in the templates folder (B24APP_TEMPLATES_DIR)",
        )
    return p, None


def template_bytes(tpl: dict[str, Any]) -> tuple[bytes | None, tuple[str, str] | None]:
    """The bytes of a settings template (``path`` or ``base64``), or why (ru, en) they cannot be read."""
    path, b64 = str(tpl.get("path") or ""), str(tpl.get("base64") or "")
    if bool(path) == bool(b64):
        return None, (
            "укажите ровно одно: path (файл на сервере) или base64 (содержимое файла)",
            "give exactly one of path (a file on the server) or base64 (the file's content)",
        )
    if path:
        p, why = server_file(path)
        if p is None:
            return None, why
        data = p.read_bytes()
    else:
        try:
            data = base64.b64decode("".join(b64.split()), validate=True)
        except (binascii.Error, ValueError):
            return None, ("base64 не читается", "base64 cannot be decoded")
    if len(data) > MAX_TEMPLATE_BYTES:
        return None, ("шаблон больше 5 МБ", "the template is larger than 5 MB")
    return data, None


def load(section: dict[str, Any], code: str) -> bytes:
    """The template named ``code``: the settings' own (``contracts.templates``) first, then a built-in one.

    Raises ConfigError naming the template when it cannot be read.
    """
    from b24app.errors import ConfigError

    own = (section.get("templates") or {}).get(code)
    if own:
        data, why = template_bytes(own)
        if why is not None or data is None:
            reason = why[0] if why else "пусто"
            raise ConfigError(f"шаблон «{code}» (contracts.templates.{code}): {reason}")
        return data
    if code in BUILDERS:
        return default_template(code)
    raise ConfigError(
        f"шаблона «{code}» нет ни в настройках (contracts.templates), ни среди встроенных "
        f"({', '.join(BUILDERS)}) / no template {code!r}"
    )
