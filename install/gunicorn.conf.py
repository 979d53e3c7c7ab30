"""Production server: gunicorn -c install/gunicorn.conf.py 'b24app:create_app()'

Web workers only receive, verify and persist: the work runs in `b24app worker` processes and
periodic tasks in one `b24app scheduler` process with SQLite, inside the workers with PostgreSQL
(never inside web workers). systemd: install/b24app-web@.service; several machines: docs/scaling.md.
"""

import multiprocessing
import os

bind = os.environ.get("B24APP_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("B24APP_WEB_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("B24APP_WEB_THREADS", "4"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("B24APP_FORWARDED_ALLOW_IPS", "127.0.0.1")
