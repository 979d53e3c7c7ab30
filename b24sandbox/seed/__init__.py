"""Seed data of sandbox portals: the МеталПром demo portal (:mod:`.metalprom`), bulk generators of
CRM records in the same shapes (:mod:`.generator`) and the check digits of Russian requisites
(:mod:`.checksums`). The data format is the shared seed contract; loaders keep the records' IDs."""
