"""Load, validate, save, export and import a portal's settings document."""

from __future__ import annotations

import logging
from typing import Any

import yaml

from b24app.jobs.registry import load_plugins
from b24app.settings.schema import Issues, Obj, validate
from b24app.settings.sections import SECTIONS
from b24app.store import settings_repo
from b24app.store.db import Database

log = logging.getLogger("b24app.settings")

FORMAT_VERSION = 1


class SettingsInvalid(Exception):
    def __init__(self, issues: Issues) -> None:
        super().__init__("; ".join(i.text("en") for i in issues[:20]))
        self.issues = issues

    def lines(self, lang: str = "ru") -> list[str]:
        return [i.text(lang) for i in self.issues]


def schema() -> Obj:
    load_plugins()
    from b24app.settings.schema import Int

    fields = {"version": Int(default=FORMAT_VERSION, min=1, max=FORMAT_VERSION)}
    fields.update({name: sec.schema for name, sec in SECTIONS.items()})
    return Obj(fields=fields)


def check(document: Any) -> tuple[dict[str, Any], Issues]:
    """Normalize (defaults filled in) and list every problem."""
    return validate(schema(), document if document is not None else {})


def defaults() -> dict[str, Any]:
    doc, issues = check({})
    if not issues:
        doc, issues = check(doc)  # the filled-in defaults must validate too
    if issues:
        raise RuntimeError("default settings do not validate: " + "; ".join(i.text("en") for i in issues))
    return doc


def load(db: Database, member_id: str) -> dict[str, Any]:
    """The portal's document with defaults filled in (the defaults if it has none)."""
    stored, _ = settings_repo.load(db, member_id)
    doc, issues = check(stored or {})
    if issues:  # a document saved by an older version; keep working with what validates
        log.warning("stored settings have problems", extra={"member_id": member_id,
                                                            "issues": [i.text("en") for i in issues[:10]]})
    return doc


def version(db: Database, member_id: str) -> int:
    return settings_repo.load(db, member_id)[1]


def save(db: Database, member_id: str, document: Any, *, updated_by: str = "",
         expected_version: int | None = None, secrets: Any = None) -> int:
    """Validate and replace atomically; raises :class:`SettingsInvalid` with every problem.

    With ``secrets`` (the app's SecretBox), sections' ``before_save`` hooks run first, so secrets a
    person typed (1C passwords) are stored encrypted and the document keeps only a mask. The version
    check, the hooks' writes and the document go in one transaction: a refused concurrent save
    stores nothing, not even a typed password."""
    with db.transaction():
        if expected_version is not None:
            current = settings_repo.load(db, member_id)[1]
            if current != expected_version:
                raise settings_repo.ConcurrentEdit(current)
        if secrets is not None and isinstance(document, dict):
            load_plugins()
            document = dict(document)
            for name, sec in SECTIONS.items():
                if sec.before_save is not None and isinstance(document.get(name), dict):
                    document[name] = sec.before_save(db, secrets, member_id, document[name])
        doc, issues = check(document)
        if issues:
            raise SettingsInvalid(issues)
        return settings_repo.save(db, member_id, doc, updated_by=updated_by, expected_version=expected_version)


def to_yaml(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=110)


def from_yaml(text: str) -> Any:
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        issues = Issues()
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        issues.add("", f"файл не читается как YAML ({where})", f"file is not valid YAML ({where})")
        raise SettingsInvalid(issues) from exc


def demo_document(facts: dict[str, Any]) -> dict[str, Any]:
    """The МеталПром demo settings, built from the portal's facts (users, sources, stages)."""
    load_plugins()
    doc: dict[str, Any] = {"version": FORMAT_VERSION}
    for name, sec in SECTIONS.items():
        if sec.demo is not None:
            doc[name] = sec.demo(facts)
    return doc
