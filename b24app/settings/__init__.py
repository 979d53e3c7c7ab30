"""The per-portal settings document: one schema made of sections (features add theirs in
``b24app/<pkg>/plugin.py`` with :func:`b24app.settings.sections.section`), validation with
readable errors, YAML export/import and the МеталПром demo settings."""
