"""Texts of the contracts feature: the robot «Сформировать договор», timeline comments, errors."""

from b24app.contracts.types import BUILTIN_CODES, LABELS_EN, LABELS_RU

TEXTS = {
    "robot.make_contract.name": {"ru": "Сформировать договор", "en": "Generate a contract"},
    "robot.make_contract.description": {
        "ru": "Присваивает номер по типу договора и юрлицу, формирует документ по шаблону с реквизитами "
        "клиента и товарами сделки, сохраняет его на Диск, записывает номер, дату и тип в поля сделки",
        "en": "Numbers the contract by type and legal entity, fills the template with the client's "
        "requisites and the deal's products, stores it on Disk and writes number, date and type into the "
        "deal's fields",
    },
    "robot.make_contract.prop.contract_type": {"ru": "Тип договора", "en": "Contract type"},
    "robot.make_contract.prop.template": {
        "ru": "Шаблон (код из настроек; пусто — шаблон типа)",
        "en": "Template (code from the settings; empty: the type's template)",
    },
    "robot.make_contract.prop.output_format": {"ru": "Формат файла", "en": "File format"},
    "robot.make_contract.ret.number": {"ru": "Номер договора", "en": "Contract number"},
    "robot.make_contract.ret.date": {"ru": "Дата договора", "en": "Contract date"},
    "robot.make_contract.ret.document_url": {"ru": "Ссылка на документ", "en": "Document link"},
    "robot.make_contract.ret.file_id": {"ru": "ID файла на Диске", "en": "Disk file ID"},
    "robot.make_contract.summary": {
        "ru": "договор № {number} от {date}",
        "en": "contract No. {number} of {date}",
    },
    "contracts.output.docx": {"ru": "DOCX (Word)", "en": "DOCX (Word)"},
    "contracts.output.pdf": {"ru": "PDF (и DOCX)", "en": "PDF (and DOCX)"},
    "contracts.timeline.issued": {
        "ru": "Сформирован документ «{title}» № {number} от {date} (тип: {type_label}). Файл: {url}",
        "en": "Document '{title}' No. {number} of {date} is ready (type: {type_label}). File: {url}",
    },
    "contracts.timeline.void": {
        "ru": "Договор № {number} аннулирован. {reason}",
        "en": "Contract No. {number} is void. {reason}",
    },
    "contracts.error.disabled": {
        "ru": "Договоры выключены в настройках (contracts.enabled)",
        "en": "Contracts are turned off in the settings (contracts.enabled)",
    },
    "contracts.error.type_unknown": {
        "ru": "Тип договора «{code}» не описан в настройках (contracts.types); есть: {known}",
        "en": "Contract type '{code}' is not in the settings (contracts.types); known: {known}",
    },
    "contracts.error.type_disabled": {
        "ru": "Тип договора «{label}» выключен в настройках",
        "en": "Contract type '{label}' is turned off in the settings",
    },
    "contracts.error.output": {
        "ru": "Формат файла «{output}» не поддерживается: docx или pdf",
        "en": "File format '{output}' is not supported: docx or pdf",
    },
    "contracts.error.my_company_unknown": {
        "ru": "Наша компания «{title}» (ID {company_id}, ИНН {inn}) из сделки не описана в настройках "
        "(contracts.legal_entities): добавьте её с кодом и ИНН",
        "en": "Our company '{title}' (ID {company_id}, INN {inn}) of the deal is not in the settings "
        "(contracts.legal_entities): add it with a code and INN",
    },
    "contracts.error.no_legal_entity": {
        "ru": "В сделке {deal_id} не выбрана «Наша компания», а юрлицо по умолчанию "
        "(contracts.default_legal_entity) не задано",
        "en": "Deal {deal_id} names no 'My company' and contracts.default_legal_entity is not set",
    },
    **{f"contracts.type.{code}": {"ru": LABELS_RU[code], "en": LABELS_EN[code]} for code in BUILTIN_CODES},
}
