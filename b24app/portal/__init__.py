"""The Bitrix24 gateway: OAuth, the per-portal REST client, parsing and verification of what
portals send us."""
