"""Texts of lead distribution: timeline comments, notifications, alerts, the robot, the CLI."""

TEXTS = {
    # --- the robot ---------------------------------------------------------------------------------
    "robot.distribute_lead.name": {"ru": "Распределить лид", "en": "Distribute the lead"},
    "robot.distribute_lead.description": {
        "ru": "Назначает ответственного по правилам распределения: источник и поля, пул сотрудников, "
              "стратегия (по очереди, по весам, по загрузке, случайно), лимиты, отсутствия и графики работы, "
              "повторные клиенты; объясняет выбор в таймлайне",
        "en": "Assigns the responsible person by the distribution rules: source and fields, a pool of users, "
              "a strategy (round robin, weighted, least loaded, random), caps, absences and work schedules, "
              "repeat clients; explains the choice in the timeline",
    },
    "robot.distribute_lead.prop.rule_set": {"ru": "Набор правил (пусто — основной)",
                                            "en": "Rule set (empty: the main rules)"},
    "robot.distribute_lead.prop.strategy": {"ru": "Стратегия (пусто — из правила)",
                                            "en": "Strategy (empty: the rule's)"},
    "robot.distribute_lead.prop.pool": {"ru": "Пул (имя из настроек; пусто — из правила)",
                                        "en": "Pool (a name from the settings; empty: the rule's)"},
    "robot.distribute_lead.prop.users": {"ru": "Сотрудники (вместо пула)", "en": "Users (instead of the pool)"},
    "robot.distribute_lead.ret.assigned_user": {"ru": "Назначенный сотрудник", "en": "Assigned user"},
    "robot.distribute_lead.ret.rule": {"ru": "Правило", "en": "Rule"},
    "robot.distribute_lead.ret.reason": {"ru": "Причина выбора", "en": "Why"},
    "robot.distribute_lead.summary": {"ru": "назначен {assigned_user}: {reason}",
                                      "en": "assigned {assigned_user}: {reason}"},
    "leads.field.reason": {"ru": "Причина назначения (b24app)", "en": "Assignment reason (b24app)"},
    "leads.strategy.round_robin": {"ru": "По очереди", "en": "Round robin"},
    "leads.strategy.weighted": {"ru": "По весам", "en": "Weighted"},
    "leads.strategy.least_loaded": {"ru": "Наименьшая загрузка", "en": "Least loaded"},
    "leads.strategy.random": {"ru": "Случайно", "en": "Random"},
    # --- decision summaries (timeline comments, `b24app leads explain`) ---------------------------
    "leads.head.assign": {
        "ru": "Лид распределён: ответственный — {user}. Правило «{rule}», пул «{pool}».",
        "en": "Lead distributed to {user}. Rule '{rule}', pool '{pool}'.",
    },
    "leads.head.release": {
        "ru": "Лид прошёл контроль качества и распределён: ответственный — {user}. Правило «{rule}», пул «{pool}».",
        "en": "Lead passed quality control and was distributed to {user}. Rule '{rule}', pool '{pool}'.",
    },
    "leads.head.qc": {
        "ru": "Лид направлен на контроль качества: {user} (правило «{rule}»). После перевода в статус «{status}» "
              "он будет распределён в пул «{pool}».",
        "en": "Lead sent to quality control: {user} (rule '{rule}'). When moved to status '{status}' it will be "
              "distributed to pool '{pool}'.",
    },
    "leads.head.repeat_client": {
        "ru": "Повторный клиент: {via} {value} совпадает с {what}, ответственный — {user}. Лид передан ему.",
        "en": "Repeat client: {via} {value} matches {what} owned by {user}. The lead goes to them.",
    },
    "leads.head.duplicate": {
        "ru": "Дубль: {via} {value} совпадает с лидом #{id} «{title}», ответственный — {user}. Лид передан ему.",
        "en": "Duplicate: {via} {value} matches lead #{id} '{title}' owned by {user}. The lead goes to them.",
    },
    "leads.head.junk": {
        "ru": "Лид отмечен как некачественный (статус «{status}»): {why}.",
        "en": "Lead marked as junk (status '{status}'): {why}.",
    },
    "leads.head.fallback_pool": {
        "ru": "В пуле «{from_pool}» никто не может принять лид; по резервному пулу «{pool}» ответственный — {user}.",
        "en": "Nobody in pool '{from_pool}' can take the lead; the fallback pool '{pool}' gives {user}.",
    },
    "leads.head.head": {
        "ru": "Никто из пула «{pool}» не может принять лид; лид передан руководителю: {user}.",
        "en": "Nobody in pool '{pool}' can take the lead; it goes to the head: {user}.",
    },
    "leads.head.queued": {
        "ru": "Никто из пула «{pool}» не может принять лид: лид ожидает в очереди, руководитель уведомлён. "
              "Лид будет распределён, когда появится доступный сотрудник.",
        "en": "Nobody in pool '{pool}' can take the lead: it waits in the queue and the head was alerted. "
              "It will be distributed when someone becomes available.",
    },
    "leads.head.reroute": {
        "ru": "Лид не взят в работу за {minutes} рабочих минут: переназначен с {previous} на {user} "
              "(переназначение {n} из {max}).",
        "en": "The lead was not taken within {minutes} working minutes: re-routed from {previous} to {user} "
              "(re-route {n} of {max}).",
    },
    "leads.head.no_rule": {
        "ru": "Ни одно правило распределения не подошло.",
        "en": "No distribution rule matched.",
    },
    "leads.owner_unavailable": {
        "ru": "Ответственный по клиенту {user} сейчас не может принять лид ({why}).",
        "en": "The client's owner {user} cannot take the lead now ({why}).",
    },
    "leads.via.phone": {"ru": "телефон", "en": "phone"},
    "leads.via.email": {"ru": "e-mail", "en": "e-mail"},
    "leads.what.contact": {"ru": "контактом #{id} «{title}»", "en": "contact #{id} '{title}'"},
    "leads.what.company": {"ru": "компанией #{id} «{title}»", "en": "company #{id} '{title}'"},
    "leads.what.deal": {"ru": "открытой сделкой #{id} «{title}»", "en": "open deal #{id} '{title}'"},
    "leads.what.deal_of_contact": {"ru": "контактом #{parent_id} «{parent_title}» (его открытая сделка #{id} «{title}»)",
                                   "en": "contact #{parent_id} '{parent_title}' (their open deal #{id} '{title}')"},
    "leads.what.deal_of_company": {"ru": "компанией #{parent_id} «{parent_title}» (её открытая сделка #{id} «{title}»)",
                                   "en": "company #{parent_id} '{parent_title}' (its open deal #{id} '{title}')"},
    "leads.what.lead": {"ru": "лидом #{id} «{title}»", "en": "lead #{id} '{title}'"},
    "leads.junk.links": {"ru": "слишком много ссылок в сообщении ({detail})",
                         "en": "too many links in the message ({detail})"},
    "leads.junk.emoji": {"ru": "слишком много эмодзи ({detail})", "en": "too many emoji ({detail})"},
    "leads.junk.pattern": {"ru": "спам-фраза «{detail}»", "en": "spam phrase '{detail}'"},
    "leads.junk.blocked_domain": {"ru": "домен e-mail в чёрном списке ({detail})",
                                  "en": "blocked e-mail domain ({detail})"},
    "leads.junk.blocked_phone": {"ru": "телефон в чёрном списке ({detail})", "en": "blocked phone ({detail})"},
    "leads.junk.existing_client": {"ru": "существующий клиент ({detail})", "en": "existing client ({detail})"},
    "leads.junk.duplicate": {"ru": "дубль ({detail})", "en": "duplicate ({detail})"},
    "leads.caps": {"ru": "Лимиты: {items}.", "en": "Caps: {items}."},
    # --- notifications -----------------------------------------------------------------------------
    "leads.notify.assigned": {
        "ru": "Вам назначен лид [URL={link}]{title}[/URL]. {why}",
        "en": "A lead was assigned to you: [URL={link}]{title}[/URL]. {why}",
    },
    "leads.notify.qc": {
        "ru": "Лид [URL={link}]{title}[/URL] ждёт контроля качества. Переведите его в статус «{status}», "
              "чтобы передать в продажи, или отметьте как некачественный.",
        "en": "Lead [URL={link}]{title}[/URL] waits for quality control. Move it to status '{status}' to hand it "
              "to sales, or mark it as junk.",
    },
    "leads.notify.summary": {
        "ru": "Вам распределено лидов из накопившихся: {count}. Первые: {links}",
        "en": "Leads from the backlog assigned to you: {count}. First ones: {links}",
    },
    "leads.notify.queued": {
        "ru": "Лид [URL={link}]{title}[/URL] не распределён: никто из пула «{pool}» сейчас не может его принять. "
              "Он ждёт в очереди.",
        "en": "Lead [URL={link}]{title}[/URL] is not distributed: nobody in pool '{pool}' can take it now. "
              "It waits in the queue.",
    },
    "leads.notify.queued_summary": {
        "ru": "При разборе накопившихся лидов {count} не удалось распределить: никто не может их принять. "
              "Они ждут в очереди.",
        "en": "{count} backlog leads could not be distributed: nobody can take them now. They wait in the queue.",
    },
    "leads.notify.remind": {
        "ru": "Напоминание: лид [URL={link}]{title}[/URL] ждёт вас уже {minutes} рабочих минут.",
        "en": "Reminder: lead [URL={link}]{title}[/URL] has been waiting for you for {minutes} working minutes.",
    },
    "leads.notify.rerouted_head": {
        "ru": "Лид [URL={link}]{title}[/URL] не взят {previous} за {minutes} рабочих минут и переназначен на {user}.",
        "en": "Lead [URL={link}]{title}[/URL] was not taken by {previous} within {minutes} working minutes and was "
              "re-routed to {user}.",
    },
    "leads.notify.escalated_head": {
        "ru": "Лид [URL={link}]{title}[/URL] так и не взят в работу после {n} переназначений (сейчас у {user}). "
              "Нужно ваше решение.",
        "en": "Lead [URL={link}]{title}[/URL] is still not taken after {n} re-routes (now with {user}). "
              "It needs your decision.",
    },
    # --- CLI ---------------------------------------------------------------------------------------
    "leads.cli.paused": {"ru": "Приём лидов для {user} приостановлен", "en": "{user} no longer receives leads"},
    "leads.cli.resumed": {"ru": "Приём лидов для {user} возобновлён", "en": "{user} receives leads again"},
    "leads.cli.not_paused": {"ru": "{user} и так принимает лиды", "en": "{user} was not paused"},
    "leads.cli.no_decisions": {"ru": "По лиду {id} решений о распределении нет",
                               "en": "No distribution decisions for lead {id}"},
}
