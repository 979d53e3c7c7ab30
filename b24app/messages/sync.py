"""Texts of the 1C sync: the robot, deal fields, timeline comments, smart invoices."""

TEXTS = {
    # --- the robot ------------------------------------------------------------------------------
    "robot.push_invoice.name": {"ru": "Выставить счет в 1С", "en": "Issue the invoice in 1C"},
    "robot.push_invoice.description": {
        "ru": "Создаёт счёт покупателю в базе 1С юрлица сделки: находит контрагента по ИНН и КПП (или создаёт "
              "его с реквизитами), договор с номером из приложения, номенклатуру по артикулу; записывает номер, "
              "дату и ссылку на счёт в сделку. Повторный запуск не создаёт второй счёт.",
        "en": "Creates the customer invoice in the 1C base of the deal's legal entity: finds the counterparty by "
              "ИНН and КПП (or creates it with requisites), the contract with the app's number, products by "
              "article; writes the number, date and link back into the deal. Running it again never makes a "
              "second invoice.",
    },
    "robot.push_invoice.ret.number": {"ru": "Номер счёта в 1С", "en": "1C invoice number"},
    "robot.push_invoice.ret.ref_key": {"ru": "Идентификатор счёта в 1С (Ref_Key)", "en": "1C invoice Ref_Key"},
    "robot.push_invoice.ret.base": {"ru": "База 1С", "en": "1C base"},
    "robot.push_invoice.ret.link": {"ru": "Ссылка на счёт в 1С", "en": "Link to the 1C invoice"},
    "robot.push_invoice.summary": {
        "ru": "счёт № {number} выставлен в базе 1С «{base}»",
        "en": "invoice No. {number} issued in 1C base '{base}'",
    },
    # --- deal fields ------------------------------------------------------------------------------
    "sync.field.invoice_number": {"ru": "Счёт 1С: номер", "en": "1C invoice: number"},
    "sync.field.invoice_date": {"ru": "Счёт 1С: дата", "en": "1C invoice: date"},
    "sync.field.invoice_ref": {"ru": "Счёт 1С: идентификатор", "en": "1C invoice: Ref_Key"},
    "sync.field.invoice_link": {"ru": "Счёт 1С: ссылка", "en": "1C invoice: link"},
    "sync.field.base": {"ru": "База 1С", "en": "1C base"},
    "sync.field.paid": {"ru": "Оплачено по счёту 1С", "en": "Paid (1C)"},
    "sync.field.remaining": {"ru": "Остаток к оплате (1С)", "en": "Remaining to pay (1C)"},
    "sync.field.last_payment_date": {"ru": "Дата последней оплаты (1С)", "en": "Last payment date (1C)"},
    "sync.field.payments": {"ru": "Оплаты из 1С", "en": "Payments from 1C"},
    # --- timeline comments ------------------------------------------------------------------------------
    "sync.doc.bank": {"ru": "платёжное поручение", "en": "bank transfer"},
    "sync.doc.cash": {"ru": "приходный кассовый ордер", "en": "cash receipt"},
    "sync.comment.payment": {
        "ru": "[b]Оплата по счёту № {number} от {invoice_date}:[/b] {amount} ({doc} № {pay_number} от {pay_date}, "
              "база 1С «{base}»).\nОплачено {paid} из {total}, остаток {remaining}.",
        "en": "[b]Payment for invoice No. {number} of {invoice_date}:[/b] {amount} ({doc} No. {pay_number} of "
              "{pay_date}, 1C base '{base}').\nPaid {paid} of {total}, remaining {remaining}.",
    },
    "sync.comment.reversal": {
        "ru": "[b]Оплата отменена в 1С:[/b] {amount} (документ № {pay_number} от {pay_date}, база «{base}») больше "
              "не учитывается по счёту № {number} — проведение отменено или документ удалён.\n"
              "Оплачено {paid} из {total}, остаток {remaining}.",
        "en": "[b]Payment reversed in 1C:[/b] {amount} (document No. {pay_number} of {pay_date}, base '{base}') no "
              "longer counts for invoice No. {number}: unposted or deleted.\nPaid {paid} of {total}, remaining "
              "{remaining}.",
    },
    "sync.comment.moved_back": {
        "ru": "Сделка возвращена на стадию {stage}: оплата по счёту № {number} отменена в 1С.",
        "en": "The deal was moved back to stage {stage}: a payment for invoice No. {number} was reversed in 1C.",
    },
    "sync.comment.invoice_gone": {
        "ru": "Счёт № {number} в базе 1С «{base}» {why}: оплаты по нему больше не отслеживаются.",
        "en": "Invoice No. {number} in 1C base '{base}' {why}: its payments are no longer tracked.",
    },
    "sync.why.deleted": {"ru": "удалён", "en": "was deleted"},
    "sync.why.marked": {"ru": "помечен на удаление", "en": "was marked for deletion"},
    # --- smart invoices -------------------------------------------------------------------------------------
    "sync.smart_invoice.title": {"ru": "Счёт 1С № {number} от {date}", "en": "1C invoice No. {number} of {date}"},
    "sync.smart_invoice.comment": {"ru": "Счёт в базе 1С «{base}»: {link}", "en": "Invoice in 1C base '{base}': {link}"},
}
