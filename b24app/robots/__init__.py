"""Automation robots: one module per robot (its definition and ``run``); see base.Robot."""
