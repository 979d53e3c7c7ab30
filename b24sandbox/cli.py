"""``python -m b24sandbox``: run the sandbox Bitrix24 portals, OAuth server and 1C bases."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="b24sandbox", description="Sandbox Bitrix24 portals for b24app")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve portals, the OAuth server and the control API over HTTP")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--data", type=Path, required=True, help="data directory (created if missing)")
    serve.add_argument("--public-url", default=None,
                       help="base URL clients use (default http://HOST:PORT)")
    serve.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        from .server import serve_forever

        serve_forever(args.data, host=args.host, port=args.port, public_url=args.public_url)
    return 0
