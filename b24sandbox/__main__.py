"""``python -m b24sandbox serve --port PORT --data DIR``."""

from .cli import main

raise SystemExit(main())
