"""Issuing a contract end to end, and the administrator's operations (void, manual number).

:func:`issue_contract` is what the robot «Сформировать договор», the CLI, the stages feature (pre-trial
claims) and the deal widget call. Its order keeps numbers gapless and retries harmless:

1. an issued contract of the deal and type (or of the request's idempotency key) is returned as it is;
2. the deal, its products, the client's and our requisites are read, and everything missing is reported
   at once (DataError) before a number is taken;
3. the number is taken in one store transaction with the register row (register.reserve), or the row
   reserved by an earlier attempt is reused with its number and date;
4. the document is rendered (DOCX; PDF too when asked and LibreOffice is installed), uploaded to the
   deal's Disk folder, written into the deal's fields, announced in the timeline; each of these is an
   effect keyed by the register row, found by name/text on a retry;
5. the register row becomes ``issued`` with the file and comment ids.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from b24app import clock
from b24app.contracts import attach, document, numbering, portal_data, register, templates
from b24app.contracts.types import effective_type
from b24app.errors import ConfigError, DataError
from b24app.messages import t as text
from b24app.store import leases

log = logging.getLogger("b24app.contracts")

OUTPUTS = ("docx", "pdf")
LEASE_S = 300.0  # longest time one document may take to produce (PDF conversion included)
LEASE_WAIT_S = 60.0  # a second producer waits this long, then retries as a job (Busy)


def _section(settings: dict[str, Any]) -> tuple[dict[str, Any], str, str]:
    general = settings.get("general") or {}
    return (
        settings.get("contracts") or {},
        str(general.get("lang") or "ru"),
        str(general.get("timezone") or "Europe/Moscow"),
    )


def contract_type(section: dict[str, Any], code: str, lang: str = "ru") -> dict[str, Any]:
    """The effective settings of a type; ConfigError when it is unknown or turned off."""
    for raw in section.get("types") or []:
        if raw.get("code") == code:
            t = effective_type(raw)
            if not t.get("enabled", True):
                raise ConfigError(text("contracts.error.type_disabled", lang, label=t["label"]))
            return t
    known = ", ".join(str(r.get("code")) for r in section.get("types") or [])
    raise ConfigError(text("contracts.error.type_unknown", lang, code=code, known=known or "—"))


def enabled_types(section: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in (effective_type(r) for r in section.get("types") or []) if t.get("enabled", True)]


def legal_entity(
    section: dict[str, Any], t: dict[str, Any], data: portal_data.DealData, lang: str = "ru"
) -> tuple[dict[str, Any] | None, bool]:
    """Our legal entity for the deal and whether it is the deal's own «Наша компания» (so the portal's
    requisites of that company apply). None when the settings describe no legal entity at all."""
    entities = [le for le in section.get("legal_entities") or []]
    by_code = {le["code"]: le for le in entities}
    my_inn = str((data.my_requisite.fields if data.my_requisite else {}).get("RQ_INN") or "").strip()

    def is_deals(le: dict[str, Any]) -> bool:
        if not data.mycompany_id:
            return False
        if le.get("company_id"):
            return int(le["company_id"]) == data.mycompany_id
        return bool(my_inn) and str(le.get("inn") or "") == my_inn

    if t.get("legal_entity"):
        le = by_code.get(t["legal_entity"])
        if le is None:
            raise ConfigError(f"contracts.types: legal entity {t['legal_entity']!r} is not described")
        return le, is_deals(le)
    if data.mycompany_id:
        for le in entities:
            if is_deals(le):
                return le, True
        if not entities:
            return None, True
        title = str((data.my_company or {}).get("TITLE") or data.mycompany_id)
        raise ConfigError(
            text(
                "contracts.error.my_company_unknown",
                lang,
                title=title,
                company_id=data.mycompany_id,
                inn=my_inn or "—",
            )
        )
    default = section.get("default_legal_entity") or ""
    if default in by_code:
        return by_code[default], False
    if len(entities) == 1:
        return entities[0], False
    if not entities:
        return None, False
    raise ConfigError(text("contracts.error.no_legal_entity", lang, deal_id=data.deal_id))


@dataclass(frozen=True)
class NumberPlan:
    """How a number is taken now: the counter bucket (legal entity key, period) and the rendering."""

    counter_le: str
    period: str
    contract_date: str  # ISO date in the portal's time zone
    make_number: Callable[[int], str]


def plan_number(
    t: dict[str, Any], le: dict[str, Any] | None, tz: str, now: dt.datetime, deal_id: int
) -> NumberPlan:
    """The numbering of type ``t`` for our legal entity ``le`` at ``now`` (aware), dates in ``tz``.

    ConfigError when the format needs a value we do not have (e.g. ``{COMPANY}`` without a legal entity),
    raised before any number is taken.
    """
    le_code = str((le or {}).get("code") or "")
    company_code = str((le or {}).get("number_code") or le_code)
    nf = numbering.parse_format(t["format"])

    def make_number(seq: int) -> str:
        return numbering.render(
            nf,
            seq,
            now,
            tz,
            prefix=t.get("prefix") or None,
            company=company_code or None,
            deal_id=deal_id,
            type_code=t["code"],
        )

    try:
        make_number(int(t["start"]))
    except numbering.NumberFormatError as exc:
        raise ConfigError(f"contracts.types.{t['code']}.format: {exc.message}") from exc
    return NumberPlan(
        counter_le=le_code if t["per_legal_entity"] else "",
        period=numbering.period_key(t["reset"], now, tz),
        contract_date=now.astimezone(ZoneInfo(tz)).date().isoformat(),
        make_number=make_number,
    )


def result(row: dict[str, Any], created: bool = False) -> dict[str, Any]:
    """What issue_contract answers."""
    out = register.public(row) or {}
    return {
        "number": out["number"],
        "date": out["date"],
        "type": out["type"],
        "file_id": out.get("file_id"),
        "document_url": out.get("document_url") or "",
        "status": out["status"],
        "contract_id": out["id"],
        "legal_entity": out.get("legal_entity") or "",
        "pdf_file_id": out.get("pdf_file_id"),
        "output": out.get("output") or "docx",
        "created": created,
    }


def issue_contract(
    ctx: Any,
    deal_id: int,
    type_code: str,
    *,
    template: str | None = None,
    output: str = "docx",
    idempotency_key: str | None = None,
    extra: dict[str, Any] | None = None,
    created_by: str = "",
) -> dict[str, Any]:
    """Number, generate, upload, write into the deal, comment, register; see the module docstring.

    ``ctx`` is a b24app.jobs.context.JobContext. Returns ``{"number", "date" (ISO), "type", "file_id",
    "document_url", "status", ...}``. Raises DataError (missing data, named per entity and field) and
    ConfigError (settings) with texts for users.
    """
    deal_id = int(deal_id)
    section, lang, tz = _section(ctx.settings())
    if not section.get("enabled", True):
        raise ConfigError(text("contracts.error.disabled", lang))
    t = contract_type(section, type_code, lang)
    output = (output or "docx").lower()
    if output not in OUTPUTS:
        raise DataError(text("contracts.error.output", lang, output=output))
    db, member_id = ctx.db, ctx.member_id
    existing = register.by_idempotency_key(db, member_id, idempotency_key) if idempotency_key else None
    existing = existing or register.active_for(db, member_id, deal_id, t["code"])
    if existing is not None and existing["status"] in (register.ISSUED, register.VOID):
        return result(existing)

    data = portal_data.fetch(ctx.client, deal_id)
    le, deals_own = legal_entity(section, t, data, lang)
    portal_seller = (
        document.party_from_requisite(data.my_requisite, data.my_company)
        if deals_own
        else document.party_from_requisite(None, None)
    )
    seller = document.merge_settings(portal_seller, le)
    le_name = str((le or {}).get("name") or seller.get("name") or (le or {}).get("code") or "—")
    le_code = str((le or {}).get("code") or "")
    code_note = f" ({le_code})" if le_code else ""
    le_label = (f"«{le_name}»{code_note}", f"'{le_name}'{code_note}")
    ref = f" (компания {data.mycompany_id})" if data.mycompany_id else ""
    found = document.problems(data, t, seller, le_label, ref)
    if found:
        raise document.missing_error(found, lang, t["label"])

    plan = plan_number(t, le, tz, clock.utcnow(), deal_id)
    tpl_code = template or t.get("template") or t["code"]
    row, created = register.reserve(
        db,
        member_id,
        deal_id=deal_id,
        type_code=t["code"],
        sequence=t["sequence"],
        legal_entity=le_code,
        counter_le=plan.counter_le,
        period=plan.period,
        make_number=plan.make_number,
        contract_date=plan.contract_date,
        start=int(t["start"]),
        step=int(t["step"]),
        idempotency_key=idempotency_key,
        created_by=created_by,
        company_id=data.company_id,
        mycompany_id=data.mycompany_id,
        template=tpl_code,
        output=output,
    )
    if row["status"] != register.RESERVED:  # issued meanwhile by a parallel run
        return result(row)
    # One producer per contract: two workers that got the same reserved row must not both upload/comment.
    with leases.held(
        # host:pid:thread first, so a lease left by a killed worker is taken over at once, not after LEASE_S
        db, f"contracts:issue:{member_id}:{row['id']}", f"{leases.holder_id()}:{uuid.uuid4().hex[:8]}",
        ttl_s=LEASE_S, wait_s=LEASE_WAIT_S,
    ):
        row = register.get(db, member_id, int(row["id"])) or row
        if row["status"] != register.RESERVED:
            return result(row)
        return _produce(ctx, section, lang, t, data, le, seller, row, tpl_code, output, extra, created)


def _produce(
    ctx: Any,
    section: dict[str, Any],
    lang: str,
    t: dict[str, Any],
    data: portal_data.DealData,
    le: dict[str, Any] | None,
    seller: dict[str, Any],
    row: dict[str, Any],
    tpl_code: str,
    output: str,
    extra: dict[str, Any] | None,
    created: bool,
) -> dict[str, Any]:
    """Render, upload, write into the deal, comment, mark issued (each step an effect of the row)."""
    db, member_id, deal_id = ctx.db, ctx.member_id, int(row["deal_id"])
    number = row["number"]
    contract_date = dt.date.fromisoformat(row["contract_date"])
    base = register.contract_for_deal(db, member_id, deal_id) if t["code"] == "claim" else None
    context = document.build_context(
        data,
        t,
        seller=seller,
        number=number,
        contract_date=contract_date,
        le=le,
        base_contract=base,
        extra=extra,
        type_label=t["label"],
    )
    docx = document.render(templates.load(section, tpl_code), context, tpl_code)

    folder_name = str(section.get("deal_folder") or "Сделка {DEAL_ID}").replace("{DEAL_ID}", str(deal_id))
    folder_id = attach.deal_folder(ctx, deal_id, folder_name)
    title = t.get("title") or t["label"]
    docx_name = attach.file_name(title, number, "docx")
    docx_file = attach.upload(ctx, folder_id, docx_name, docx, f"contracts:file:{row['id']}:docx")
    main, files, made = docx_file, [(docx_name, docx)], "docx"
    pdf_file: dict[str, Any] | None = None
    if output == "pdf":
        pdf = document.to_pdf(docx, stem="contract")
        if pdf is not None:
            pdf_name = attach.file_name(title, number, "pdf")
            pdf_file = attach.upload(ctx, folder_id, pdf_name, pdf, f"contracts:file:{row['id']}:pdf")
            main, made = pdf_file, "pdf"
            files.append((pdf_name, pdf))
        else:
            log.warning(
                "pdf asked but LibreOffice is not available: docx only",
                extra={"member_id": member_id, "deal_id": deal_id, "number": number},
            )
    url = main.get("url") or main.get("download_url") or ""

    if t.get("write_deal_fields", True):
        fields = attach.ensure_fields(ctx, enabled_types(section))
        values: dict[str, Any] = {
            attach.FIELD_NUMBER: number,
            attach.FIELD_DATE: contract_date.isoformat(),
            attach.FIELD_URL: url,
        }
        item = attach.enum_item_id(fields, t["code"])
        if item is not None:
            values[attach.FIELD_TYPE] = item
        attach.write_deal_fields(ctx, deal_id, values)

    comment = text(
        "contracts.timeline.issued",
        lang,
        title=title,
        number=number,
        date=contract_date.strftime("%d.%m.%Y"),
        type_label=t["label"],
        url=url,
    )
    comment_id = attach.timeline_comment(ctx, deal_id, comment, files, f"contracts:comment:{row['id']}")
    totals = context["totals"]
    row = register.update(
        db,
        member_id,
        int(row["id"]),
        status=register.ISSUED,
        file_id=main["id"],
        file_name=main["name"],
        document_url=url,
        pdf_file_id=pdf_file["id"] if pdf_file else None,
        comment_id=comment_id,
        amount=totals["amount"],
        currency=context["deal"]["currency"],
        output=made,
        issued_at=clock.now(),
        company_id=data.company_id,
        mycompany_id=data.mycompany_id,
        legal_entity=str((le or {}).get("code") or row["legal_entity"] or ""),
    )
    log.info(
        "contract issued",
        extra={
            "member_id": member_id,
            "deal_id": deal_id,
            "number": number,
            "type": t["code"],
            "file_id": main["id"],
        },
    )
    return result(row, created)


def void_contract(
    ctx: Any, number: str, *, by: str = "", reason: str = "", clear_deal: bool = True
) -> dict[str, Any]:
    """Cancel a contract: the register keeps it (void, never reused); the deal's fields are cleared if they
    still show this number, and the timeline says so."""
    section, lang, _tz = _section(ctx.settings())
    before = register.by_number(ctx.db, ctx.member_id, number)
    row = register.void(ctx.db, ctx.member_id, number, by=by, reason=reason)
    if before is not None and before["status"] != register.VOID and clear_deal:
        deal_id = int(row["deal_id"])
        deal = ctx.client.call("crm.deal.get", {"id": deal_id}) or {}
        if str(deal.get(attach.FIELD_NUMBER) or "") == number:
            attach.write_deal_fields(
                ctx,
                deal_id,
                {attach.FIELD_NUMBER: "", attach.FIELD_DATE: "", attach.FIELD_URL: "", attach.FIELD_TYPE: ""},
            )
        attach.timeline_comment(
            ctx,
            deal_id,
            text("contracts.timeline.void", lang, number=number, reason=reason or ""),
            [],
            f"contracts:void:{row['id']}",
        )
    return register.public(row) or {}


def set_manual_number(
    ctx: Any,
    deal_id: int,
    type_code: str,
    number: str,
    *,
    date: dt.date | None = None,
    legal_entity_code: str | None = None,
    replace: bool = False,
    by: str = "",
) -> tuple[dict[str, Any], list[str]]:
    """An administrator's number for the deal (checked for uniqueness against the whole register).

    Returns the register row and warnings (e.g. the number does not follow the type's format). The next
    issue_contract for this deal and type makes the document with this number.
    """
    section, lang, tz = _section(ctx.settings())
    t = contract_type(section, type_code, lang)
    codes = {le["code"]: le for le in section.get("legal_entities") or []}
    le_code = legal_entity_code or t.get("legal_entity") or section.get("default_legal_entity") or ""
    if le_code and le_code not in codes:
        raise ConfigError(f"legal entity {le_code!r} is not in contracts.legal_entities")
    day = date or clock.utcnow().astimezone(ZoneInfo(tz)).date()
    le = codes.get(le_code) or {}
    warnings: list[str] = []
    seq = None
    try:
        parsed = numbering.parse_number(
            t["format"],
            number,
            prefix=t.get("prefix") or None,
            company=(le.get("number_code") or le_code) or None,
        )
    except numbering.NumberFormatError:
        parsed = None
    if parsed is None:
        warnings.append(
            f"номер не следует формату типа ({t['format']}) / the number does not follow the format"
        )
    else:
        seq = parsed.seq
    at = dt.datetime.combine(day, dt.time(12), tzinfo=ZoneInfo(tz))
    row = register.set_manual(
        ctx.db,
        ctx.member_id,
        deal_id=int(deal_id),
        type_code=t["code"],
        number=number,
        contract_date=day.isoformat(),
        legal_entity=le_code,
        counter_le=le_code if t["per_legal_entity"] else "",
        sequence=t["sequence"],
        period=numbering.period_key(t["reset"], at, tz),
        seq=seq,
        created_by=by,
        replace=replace,
    )
    return register.public(row) or {}, warnings
