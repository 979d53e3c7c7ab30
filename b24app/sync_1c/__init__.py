"""Two-way sync of invoices and payments between Bitrix24 deals and one or several 1C bases.

Bitrix24 -> 1C: a deal (robot "Выставить счет в 1С", a smart invoice created in Bitrix24, or
``b24app sync push-invoice``) becomes an invoice in the base its legal entity (funnel, field)
routes it to — counterparty found by ИНН+КПП or created once, contract from the contracts
feature, goods matched to Номенклатура — crash-safe through an idempotency key in the document.
1C -> Bitrix24: scheduled incremental pulls per base (streams with cursors, lookback windows,
signposts and dead letters) bring payments back: paid sum, remaining balance, payment list and
a timeline comment per payment on the deal, stage moves, smart-invoice stages, reversals.

Modules: ``netguard`` (SSRF guard), ``odata``/``soap`` (transports' wire clients), ``profiles``
(БП/УТ/УНФ names and documents), ``transport`` (one interface over both), ``connections``
(settings -> transports), ``push`` (B24 -> 1C), ``streams``/``engine`` (1C -> local store),
``apply`` (local store -> B24), ``state`` (tables), ``api`` (for other features).
"""
