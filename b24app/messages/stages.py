"""Texts of stage tasks, stage deadlines (SLA), the overdue-payment path and the daily digest.

Notifications use Bitrix24 BB-codes (``[b]``, ``[url=...]``); placeholders are ``str.format`` names.
"""

TEXTS = {
    # --- the robot -----------------------------------------------------------------------------
    "robot.stage_tasks.name": {"ru": "Создать задачи стадии", "en": "Create stage tasks"},
    "robot.stage_tasks.description": {
        "ru": "Создаёт задачи по шаблонам стадии из настроек приложения (ответственный, сроки в рабочем "
              "времени, чек-лист, привязка к элементу CRM). Повторный запуск задачи не дублирует.",
        "en": "Creates the tasks of the stage's templates from the app settings (responsible, deadlines in "
              "working time, checklist, CRM binding). Running it again never duplicates tasks.",
    },
    "robot.stage_tasks.prop.stage": {
        "ru": "Стадия (пусто — текущая стадия элемента)",
        "en": "Stage (empty: the item's current stage)",
    },
    "robot.stage_tasks.prop.templates": {
        "ru": "Коды шаблонов через запятую (пусто — все шаблоны стадии)",
        "en": "Template codes, comma separated (empty: every template of the stage)",
    },
    "robot.stage_tasks.ret.task_ids": {"ru": "ID задач", "en": "Task IDs"},
    "robot.stage_tasks.ret.created": {"ru": "Создано задач", "en": "Tasks created"},
    "robot.stage_tasks.summary": {
        "ru": "задачи стадии: {created} (ID {task_ids})",
        "en": "stage tasks: {created} (IDs {task_ids})",
    },
    # --- entity words --------------------------------------------------------------------------
    "stages.entity.deal": {"ru": "сделке", "en": "deal"},
    "stages.entity.lead": {"ru": "лиду", "en": "lead"},
    "stages.field.overdue": {"ru": "Просрочено", "en": "Overdue"},
    "stages.task.marker": {
        "ru": "Создано приложением «Автопилот продаж» ({marker})",
        "en": "Created by the Sales autopilot app ({marker})",
    },
    # --- SLA -----------------------------------------------------------------------------------
    "stages.sla.notify_assignee": {
        "ru": "[b]Просрочен срок стадии «{stage}»[/b] по {entity} [url={link}]{title}[/url]: срок истёк "
              "{due}. Переведите элемент дальше или обновите дату.",
        "en": "[b]Stage deadline missed: {stage}[/b] on {entity} [url={link}]{title}[/url]: it was due {due}. "
              "Move the item on or update the date.",
    },
    "stages.sla.notify_head": {
        "ru": "[b]Эскалация:[/b] просрочен срок стадии «{stage}» по {entity} [url={link}]{title}[/url], "
              "ответственный {manager} (срок {due}, просрочено на {late} раб. ч).",
        "en": "[b]Escalation:[/b] {manager} missed the deadline of stage {stage} on {entity} "
              "[url={link}]{title}[/url] (due {due}, {late} working hours late).",
    },
    "stages.sla.head_task.title": {
        "ru": "Просрочена стадия «{stage}»: {title}",
        "en": "Stage {stage} is overdue: {title}",
    },
    "stages.sla.head_task.description": {
        "ru": "Элемент CRM: {link}\nОтветственный: {manager}\nСтадия: {stage}, срок {due}, просрочено на "
              "{late} раб. ч.\nРазберитесь с причиной задержки и помогите сотруднику.",
        "en": "CRM item: {link}\nResponsible: {manager}\nStage: {stage}, due {due}, {late} working hours late.\n"
              "Find out why it is late and help the employee.",
    },
    # --- overdue payments ----------------------------------------------------------------------
    "stages.pay.remind": {
        "ru": "[b]Просрочена оплата[/b] по сделке [url={link}]{title}[/url]: счёт {invoice}, срок оплаты "
              "{due}, просрочка {days} дн., долг {debt}. Свяжитесь с клиентом.",
        "en": "[b]Payment overdue[/b] on deal [url={link}]{title}[/url]: invoice {invoice}, due {due}, "
              "{days} days late, debt {debt}. Contact the client.",
    },
    "stages.pay.lawyer_task.title": {
        "ru": "Досудебная претензия: {company}",
        "en": "Pre-trial claim: {company}",
    },
    "stages.pay.lawyer_task.description": {
        "ru": "Клиент не оплатил счёт, подготовьте досудебную претензию.\n\nСделка: {title} ({link})\n"
              "Клиент: {company}\nДолг: {debt} (сумма счёта {amount}, оплачено {paid})\nСчёт: {invoice}, "
              "срок оплаты {due}, просрочка {days} дн.\nДоговор: {contract}\nМенеджер: {manager}",
        "en": "The client has not paid the invoice; prepare a pre-trial claim.\n\nDeal: {title} ({link})\n"
              "Client: {company}\nDebt: {debt} (invoice {amount}, paid {paid})\nInvoice: {invoice}, due {due}, "
              "{days} days late\nContract: {contract}\nManager: {manager}",
    },
    "stages.pay.paid": {
        "ru": "[b]Оплата поступила[/b] по сделке [url={link}]{title}[/url] (счёт {invoice}): претензионная "
              "работа остановлена.",
        "en": "[b]Payment received[/b] on deal [url={link}]{title}[/url] (invoice {invoice}): the claim "
              "procedure is stopped.",
    },
    "stages.pay.no_contract": {"ru": "не указан", "en": "not set"},
    "stages.pay.no_invoice": {"ru": "без номера", "en": "no number"},
    "stages.pay.contracts_unavailable": {
        "ru": "contracts feature not available: модуль договоров не установлен, претензия не сформирована",
        "en": "contracts feature not available: the contracts module is missing, no claim document made",
    },
    # --- digest --------------------------------------------------------------------------------
    "stages.digest.header": {
        "ru": "[b]Итоги дня {date}[/b] по вашим сотрудникам",
        "en": "[b]Summary of {date}[/b] for your team",
    },
    "stages.digest.overdue": {"ru": "[b]Просроченные стадии ({n}):[/b]", "en": "[b]Overdue stages ({n}):[/b]"},
    "stages.digest.overdue.line": {
        "ru": "• [url={link}]{title}[/url] — {stage}, {manager}, срок {due}",
        "en": "• [url={link}]{title}[/url] — {stage}, {manager}, due {due}",
    },
    "stages.digest.stuck": {
        "ru": "[b]Зависшие лиды (без движения {days}+ раб. дн.) ({n}):[/b]",
        "en": "[b]Stuck leads (no move for {days}+ working days) ({n}):[/b]",
    },
    "stages.digest.stuck.line": {
        "ru": "• [url={link}]{title}[/url] — {stage}, {manager}, с {since}",
        "en": "• [url={link}]{title}[/url] — {stage}, {manager}, since {since}",
    },
    "stages.digest.tasks": {
        "ru": "[b]Задачи со сроком на сегодня и просроченные ({n}):[/b]",
        "en": "[b]Tasks due today or overdue ({n}):[/b]",
    },
    "stages.digest.tasks.line": {
        "ru": "• {title} — {manager}, срок {due}",
        "en": "• {title} — {manager}, due {due}",
    },
    "stages.digest.more": {"ru": "… и ещё {n}", "en": "… and {n} more"},
    "stages.digest.empty": {
        "ru": "Просрочек, зависших лидов и горящих задач нет.",
        "en": "No overdue stages, stuck leads or tasks due.",
    },
}
