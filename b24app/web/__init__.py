"""The Flask side: the app factory, blueprints of inbound endpoints and pages, templates."""
