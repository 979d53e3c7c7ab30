"""Durable jobs: kinds and their handlers, event subscriptions, periodic tasks, the worker and
the scheduler."""
