# Two entry points, both set everything up first (see README.md).
.PHONY: setup demo test lint bench

setup:
	@scripts/setup.sh

demo: setup
	.venv/bin/b24app demo

test: setup
	.venv/bin/ruff check .
	.venv/bin/pytest

lint: setup
	.venv/bin/ruff check .

bench: setup
	.venv/bin/python -m bench
