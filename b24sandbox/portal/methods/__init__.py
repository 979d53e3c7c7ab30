"""Business REST methods of the sandbox portal (CRM, tasks, users, notifications, disk) and the
seed loader. Importing this package registers every handler and sets the platform hooks
(``HOOKS.seed_portal``, ``HOOKS.user_lookup``) and the control blueprints."""

from . import (  # noqa: F401
    crm_entities,
    crm_fields,
    crm_item,
    crm_meta,
    crm_misc,
    crm_products,
    crm_requisite_links,
    crm_requisites,
    disk,
    im,
    seed,
    tasks,
    users,
)
