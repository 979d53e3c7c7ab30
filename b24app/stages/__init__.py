"""Stage tasks, stage deadlines (SLA) with escalation, the overdue-payment claim path and the daily
digest for heads (issue 5). See docs/stages.md.

Modules: ``settings_schema`` / ``model`` (settings sections), ``deadlines`` (business-time arithmetic,
pure), ``items`` / ``org`` / ``render`` (CRM items, company structure, placeholders), ``tasks`` (tasks
created once, by marker), ``creation`` (templates -> tasks), ``detect`` (stage changes from events),
``approvals`` (task follow-up), ``sla`` (limits, escalation, flag, scan), ``payments`` (overdue payments),
``digest``, ``apply`` (retroactive), ``repo`` / ``schema`` (tables), ``plugin`` / ``cli``.
"""
