"""The app's pages inside Bitrix24. Every module here that exposes a Flask blueprint ``bp`` is
registered by the core (b24app.web.app.view_blueprints); helper modules (``layout``) have none.
See docs/ui.md."""
