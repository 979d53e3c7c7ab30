"""A TLS front for the sandbox process, for clients that only speak HTTPS (b24pysdk builds
``https://<domain>/rest/...`` and nothing else).

Bytes are forwarded unchanged to the sandbox's plain HTTP port, so every request still lands in the
same sandbox process, the same portal and the same leaky bucket as the app's. The certificate is a
throw-away one made by the ``openssl`` command (as tests/sandbox/test_b24pysdk.py does); point
``REQUESTS_CA_BUNDLE`` at :attr:`TlsProxy.cert`.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any


def make_certificate(directory: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if not openssl:
        raise RuntimeError("the openssl command is needed to make a certificate for the TLS front")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:TRUE"],
                   check=True, capture_output=True)
    return cert, key


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class TlsProxy:
    """``https://127.0.0.1:<port>`` -> ``http://127.0.0.1:<target_port>``; a context manager."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.dir = Path(tempfile.mkdtemp(prefix="bench-tls-"))
        self.cert, key = make_certificate(self.dir)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(self.cert, key)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = int(self.sock.getsockname()[1])
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            tls = self.ctx.wrap_socket(conn, server_side=True)
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=300)
        except (OSError, ssl.SSLError):
            conn.close()
            return
        threading.Thread(target=_pump, args=(upstream, tls), daemon=True).start()
        _pump(tls, upstream)

    def stop(self) -> None:
        self.stopped.set()
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> TlsProxy:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
