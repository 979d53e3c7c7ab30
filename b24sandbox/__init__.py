"""Sandbox Bitrix24 portal, OAuth server and 1C bases for the demo, tests and benchmarks.

A separate program: b24app never imports it.
"""
