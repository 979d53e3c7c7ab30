"""The contract register (реестр договоров) and its gapless number counters.

How a number is taken (:func:`reserve`), in ONE write transaction (SQLite ``BEGIN IMMEDIATE``, PostgreSQL
READ COMMITTED with an advisory lock per deal and type):

1. the request's idempotency key, then the deal's active contract of that type, are looked up: found ->
   that row is the answer (a retried robot gets the same number);
2. the counter of (portal, sequence, legal entity, period) is incremented with ``INSERT ... ON CONFLICT DO
   UPDATE ... RETURNING`` (the first value is ``start``, then ``+ step``);
3. the number is rendered; if an administrator already took that exact number by hand, the next value is
   taken (the skipped value belongs to the manual number, so nothing is lost);
4. the register row is inserted. A failure anywhere rolls the counter back with it: no gap.

No HTTP happens inside the transaction; the caller renders the document and talks to the portal after
commit. Void contracts stay in the register with their number, which is never issued again.

Rows leave this module as plain dicts (:func:`public`) with ISO dates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from b24app import clock
from b24app.errors import DataError
from b24app.store.db import Database

RESERVED, ISSUED, VOID = "reserved", "issued", "void"
STATUSES = (RESERVED, ISSUED, VOID)
MAX_SKIPS = 10_000
NOT_A_CONTRACT = "claim"  # a pre-trial claim is numbered and registered, but it is a letter

_COLUMNS = tuple(
    """id member_id deal_id type_code legal_entity sequence counter_le period seq number contract_date
    status manual company_id mycompany_id amount currency template output file_id file_name document_url
    pdf_file_id comment_id idempotency_key created_by note created_at updated_at issued_at voided_at
    voided_by void_reason""".split()
)
_UPDATABLE = set(
    """status legal_entity company_id mycompany_id amount currency template output file_id
    file_name document_url pdf_file_id comment_id note issued_at""".split()
)


def lock_key(member_id: str, deal_id: int, type_code: str) -> int:
    """A stable signed 63-bit key for the advisory lock of one deal and type (PostgreSQL)."""
    digest = hashlib.sha256(f"contracts:{member_id}:{deal_id}:{type_code}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF


def public(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A register row for callers: ``date`` is the contract date (ISO), times are ISO UTC."""
    if row is None:
        return None
    out = {k: row.get(k) for k in _COLUMNS if k not in ("member_id", "contract_date", "type_code")}
    out["type"] = row["type_code"]
    out["date"] = row["contract_date"]
    out["manual"] = bool(row.get("manual"))
    for key in ("created_at", "updated_at", "issued_at", "voided_at"):
        out[key] = clock.iso(row.get(key))
    for key in ("deal_id", "seq", "company_id", "mycompany_id", "file_id", "pdf_file_id", "comment_id", "id"):
        if out.get(key) is not None:
            out[key] = int(out[key])
    return out


def get(db: Database, member_id: str, contract_id: int) -> dict[str, Any] | None:
    return db.one("SELECT * FROM contracts_register WHERE member_id = ? AND id = ?", (member_id, contract_id))


def by_number(db: Database, member_id: str, number: str) -> dict[str, Any] | None:
    return db.one("SELECT * FROM contracts_register WHERE member_id = ? AND number = ?", (member_id, number))


def active_for(db: Database, member_id: str, deal_id: int, type_code: str) -> dict[str, Any] | None:
    """The deal's contract of this type that is not void (at most one exists)."""
    return db.one(
        "SELECT * FROM contracts_register WHERE member_id = ? AND deal_id = ? AND type_code = ? "
        "AND status <> ?",
        (member_id, deal_id, type_code, VOID),
    )


def by_idempotency_key(db: Database, member_id: str, key: str) -> dict[str, Any] | None:
    return db.one(
        "SELECT * FROM contracts_register WHERE member_id = ? AND idempotency_key = ?", (member_id, key)
    )


def counter_value(db: Database, member_id: str, sequence: str, legal_entity: str, period: str) -> int | None:
    """The last value taken from a counter (None: nothing taken yet)."""
    v = db.scalar(
        "SELECT value FROM contracts_counters WHERE member_id = ? AND sequence = ? AND legal_entity = ? AND "
        "period = ?",
        (member_id, sequence, legal_entity, period),
    )
    return None if v is None else int(v)


def _next_value(
    db: Database, member_id: str, sequence: str, legal_entity: str, period: str, start: int, step: int
) -> int:
    rows = db.query(
        """INSERT INTO contracts_counters (member_id, sequence, legal_entity, period, value, updated_at)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (member_id, sequence, legal_entity, period)
           DO UPDATE SET value = contracts_counters.value + ?, updated_at = excluded.updated_at
           RETURNING value""",
        (member_id, sequence, legal_entity, period, start, clock.now(), step),
    )
    return int(rows[0]["value"])


def reserve(
    db: Database,
    member_id: str,
    *,
    deal_id: int,
    type_code: str,
    sequence: str,
    legal_entity: str,
    counter_le: str,
    period: str,
    make_number: Callable[[int], str],
    contract_date: str,
    start: int = 1,
    step: int = 1,
    idempotency_key: str | None = None,
    created_by: str = "",
    company_id: int | None = None,
    mycompany_id: int | None = None,
    template: str | None = None,
    output: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """The deal's contract of ``type_code``: the existing one, or a new row with the next number.

    Returns ``(row, created)``. ``legal_entity`` is the contract's (our) legal entity code; ``counter_le`` the
    counter's legal-entity key (the same code for a sequence per legal entity, else empty).
    ``make_number(seq)`` renders the number of a sequence value (pure; it must not do I/O: it runs under the
    write lock).
    """
    with db.transaction():
        db.serialize(lock_key(member_id, deal_id, type_code))
        if idempotency_key:
            row = by_idempotency_key(db, member_id, idempotency_key)
            if row is not None:
                if int(row["deal_id"]) != int(deal_id) or row["type_code"] != type_code:
                    raise DataError(
                        f"idempotency key {idempotency_key!r} was used for deal {row['deal_id']} "
                        f"type {row['type_code']}, not deal {deal_id} type {type_code}"
                    )
                return row, False
        row = active_for(db, member_id, deal_id, type_code)
        if row is not None:
            return row, False
        for _ in range(MAX_SKIPS):
            seq = _next_value(db, member_id, sequence, counter_le, period, start, step)
            number = make_number(seq)
            if by_number(db, member_id, number) is None:
                break
        else:  # pragma: no cover - needs 10,000 manual numbers in a row
            raise DataError(f"no free number after {MAX_SKIPS} values of sequence {sequence}")
        now = clock.now()
        rows = db.query(
            """INSERT INTO contracts_register (member_id, deal_id, type_code, legal_entity, sequence,
                   counter_le, period, seq, number, contract_date, status, manual, company_id, mycompany_id,
                   template, output, idempotency_key, created_by, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *""",
            (
                member_id,
                deal_id,
                type_code,
                legal_entity,
                sequence,
                counter_le,
                period,
                seq,
                number,
                contract_date,
                RESERVED,
                company_id,
                mycompany_id,
                template,
                output,
                idempotency_key,
                created_by,
                now,
                now,
            ),
        )
        return dict(rows[0]), True


def update(db: Database, member_id: str, contract_id: int, **fields: Any) -> dict[str, Any]:
    """Record what was done for a contract (file, comment, status ...); returns the row."""
    bad = set(fields) - _UPDATABLE
    if bad:
        raise ValueError(f"cannot update {sorted(bad)} of a contract")
    if fields:
        sets = ", ".join(f"{k} = ?" for k in fields)
        db.execute(
            f"UPDATE contracts_register SET {sets}, updated_at = ? WHERE member_id = ? AND id = ?",
            (*fields.values(), clock.now(), member_id, contract_id),
        )
    row = get(db, member_id, contract_id)
    if row is None:
        raise DataError(f"contract {contract_id} not found")
    return row


def void(db: Database, member_id: str, number: str, *, by: str = "", reason: str = "") -> dict[str, Any]:
    """Cancel a contract: its row stays (status void) and its number is never issued again."""
    with db.transaction():
        row = by_number(db, member_id, number)
        if row is None:
            raise DataError(f"договора с номером {number} нет в реестре / no contract numbered {number}")
        if row["status"] == VOID:
            return row
        now = clock.now()
        db.execute(
            """UPDATE contracts_register SET status = ?, voided_at = ?, voided_by = ?, void_reason = ?,
               updated_at = ? WHERE id = ?""",
            (VOID, now, by, reason, now, row["id"]),
        )
        return get(db, member_id, int(row["id"])) or row


def set_manual(
    db: Database,
    member_id: str,
    *,
    deal_id: int,
    type_code: str,
    number: str,
    contract_date: str,
    legal_entity: str = "",
    sequence: str = "",
    counter_le: str = "",
    period: str = "",
    seq: int | None = None,
    created_by: str = "",
    replace: bool = False,
) -> dict[str, Any]:
    """Give the deal a number chosen by an administrator.

    The number must be new to the register (void numbers included). If the deal already has an active
    contract of this type, ``replace=True`` voids it first (its number stays void); otherwise it is an error.
    """
    number = number.strip()
    if not number:
        raise DataError("номер пуст / the number is empty")
    with db.transaction():
        db.serialize(lock_key(member_id, deal_id, type_code))
        taken = by_number(db, member_id, number)
        if taken is not None:
            raise DataError(
                f"номер {number} уже есть в реестре (сделка {taken['deal_id']}, статус {taken['status']}) / "
                f"number {number} is already in the register (deal {taken['deal_id']}, {taken['status']})"
            )
        current = active_for(db, member_id, deal_id, type_code)
        now = clock.now()
        if current is not None:
            if not replace:
                raise DataError(
                    f"у сделки {deal_id} уже есть договор {current['number']} этого типа: аннулируйте его "
                    f"или "
                    f"укажите замену / deal {deal_id} already has contract {current['number']} of this type"
                )
            db.execute(
                """UPDATE contracts_register SET status = ?, voided_at = ?, voided_by = ?, void_reason = ?,
                   updated_at = ? WHERE id = ?""",
                (VOID, now, created_by, f"replaced by manual number {number}", now, current["id"]),
            )
        rows = db.query(
            """INSERT INTO contracts_register (member_id, deal_id, type_code, legal_entity, sequence,
                   counter_le, period, seq, number, contract_date, status, manual, created_by, created_at,
                   updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) RETURNING *""",
            (
                member_id,
                deal_id,
                type_code,
                legal_entity,
                sequence,
                counter_le,
                period,
                seq,
                number,
                contract_date,
                RESERVED,
                created_by,
                now,
                now,
            ),
        )
        return dict(rows[0])


def set_counter(
    db: Database, member_id: str, *, sequence: str, legal_entity: str, period: str, value: int
) -> int:
    """Move a counter (e.g. when the portal starts using the app mid-year): the next number is value + step.

    A counter never goes below a value already used by a register row of that sequence and period.
    """
    with db.transaction():
        used = db.scalar(
            """SELECT MAX(seq) FROM contracts_register WHERE member_id = ? AND sequence = ? AND counter_le = ?
               AND period = ? AND manual = 0""",
            (member_id, sequence, legal_entity, period),
        )
        if used is not None and value < int(used):
            raise DataError(
                f"номер {used} этой последовательности уже выдан: счётчик не может быть меньше / "
                f"value {used} of this sequence is already used"
            )
        db.execute(
            """INSERT INTO contracts_counters (member_id, sequence, legal_entity, period, value, updated_at)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (member_id, sequence, legal_entity, period)
               DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at""",
            (member_id, sequence, legal_entity, period, value, clock.now()),
        )
        return value


def list_contracts(
    db: Database,
    member_id: str,
    *,
    deal_id: int | None = None,
    type_code: str | None = None,
    status: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Register rows, newest first."""
    sql = "SELECT * FROM contracts_register WHERE member_id = ?"
    params: list[Any] = [member_id]
    if deal_id is not None:
        sql += " AND deal_id = ?"
        params.append(deal_id)
    if type_code:
        sql += " AND type_code = ?"
        params.append(type_code)
    if status:
        sql += " AND status = ?"
        params.append(status)
    sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
    params.append(limit)
    return db.query(sql, params)


def contract_for_deal(
    db: Database, member_id: str, deal_id: int, type_code: str | None = None
) -> dict[str, Any] | None:
    """The deal's newest contract that is not void (of ``type_code`` if given), for the 1C sync and others.

    Without ``type_code`` a pre-trial claim (``claim``) is not taken: it is a letter, not a contract.

    ``{"number", "date" (ISO), "type", "legal_entity" (our legal entity's code), "status" ("reserved" or
    "issued"), "id", "file_id", "document_url"}``; None when the deal has none.
    """
    sql = "SELECT * FROM contracts_register WHERE member_id = ? AND deal_id = ? AND status <> ?"
    params: list[Any] = [member_id, int(deal_id), VOID]
    if type_code:
        sql += " AND type_code = ?"
        params.append(type_code)
    else:
        sql += " AND type_code <> ?"
        params.append(NOT_A_CONTRACT)
    row = db.one(sql + " ORDER BY created_at DESC, id DESC LIMIT 1", params)
    if row is None:
        return None
    return {
        "number": row["number"],
        "date": row["contract_date"],
        "type": row["type_code"],
        "legal_entity": row["legal_entity"],
        "status": row["status"],
        "id": int(row["id"]),
        "file_id": None if row["file_id"] is None else int(row["file_id"]),
        "document_url": row["document_url"],
    }
