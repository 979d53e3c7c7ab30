"""``python -m b24app`` is the ``b24app`` command."""

from b24app.cli import main

main()
