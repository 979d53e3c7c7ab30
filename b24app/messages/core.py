"""Texts of the app core: install, robots framework, errors shown to users."""

TEXTS = {
    "app.title": {"ru": "Отдел продаж на автопилоте", "en": "Sales department on autopilot"},
    "install.title": {"ru": "Установка приложения", "en": "Installing the application"},
    "install.done": {
        "ru": "Приложение установлено. Роботы, обработчики событий и виджеты регистрируются.",
        "en": "The application is installed. Robots, event handlers and widgets are being registered.",
    },
    "install.failed": {
        "ru": "Установка не удалась: {reason}",
        "en": "Installation failed: {reason}",
    },
    "install.unverified": {
        "ru": "Не удалось подтвердить данные портала: {reason}. Откройте приложение из Битрикс24 ещё раз.",
        "en": "Could not verify the portal's data: {reason}. Open the application from Bitrix24 again.",
    },
    "placement.default.title": {"ru": "Автопилот продаж", "en": "Sales autopilot"},
    "placement.deal_tab.title": {"ru": "Автопилот", "en": "Autopilot"},
    "placement.deal_tab.description": {
        "ru": "Договор, счета и оплаты из 1С, срок стадии, распределение",
        "en": "Contract, 1C invoices and payments, stage deadline, distribution",
    },
    "robot.error.log": {
        "ru": "Ошибка приложения: {error}",
        "en": "Application error: {error}",
    },
    "robot.ok.log": {"ru": "Выполнено: {summary}", "en": "Done: {summary}"},
    "robot.return.ok": {"ru": "Успешно", "en": "Succeeded"},
    "robot.return.error": {"ru": "Текст ошибки", "en": "Error text"},
    "robot.timeline_comment.name": {
        "ru": "Записать комментарий в таймлайн",
        "en": "Write a timeline comment",
    },
    "robot.timeline_comment.description": {
        "ru": "Добавляет комментарий с подставленными полями в таймлайн элемента CRM",
        "en": "Adds a comment with substituted fields to the CRM item's timeline",
    },
    "robot.timeline_comment.prop.text": {"ru": "Текст комментария", "en": "Comment text"},
    "robot.timeline_comment.ret.comment_id": {"ru": "ID комментария", "en": "Comment ID"},
    "robot.timeline_comment.summary": {
        "ru": "комментарий {comment_id} добавлен", "en": "comment {comment_id} added",
    },
    "error.required_property": {
        "ru": "Не заполнено обязательное свойство робота «{name}»",
        "en": "Required robot property '{name}' is empty",
    },
    "error.unsupported_document": {
        "ru": "Робот не работает с документом {document}",
        "en": "The robot does not work with document {document}",
    },
    "error.settings_invalid": {
        "ru": "Настройки содержат ошибки",
        "en": "The settings contain errors",
    },
    "error.reinstall_required": {
        "ru": "Портал отозвал доступ приложения: администратору нужно открыть приложение заново",
        "en": "The portal revoked the app's access: an administrator must open the app again",
    },
}
