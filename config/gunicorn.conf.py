"""Gunicorn, the production web server: `gunicorn --config config/gunicorn.conf.py config.wsgi`
(the Procfile, `make serve`, the benchmark). Every setting can be changed by environment.

Sync workers, one request at a time each: the portal's requests are short database work, and a
worker per core or two keeps PostgreSQL connections few (behind PgBouncer, docs/deploy.md). A
worker that hangs past `timeout` is killed and replaced; each is also replaced after
`max_requests` (with jitter, so they do not all restart together), which bounds any slow leak.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", str(multiprocessing.cpu_count() * 2)))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
# The load balancer in front sets X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER trusts it): name the
# addresses it comes from, or "*" where only the load balancer can reach the workers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Django's own logging (config/logs.py) writes the application's lines; gunicorn's access log
# adds one line per request, as JSON with the request id the portal sent back.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
access_log_format = (
    '{"time": "%(t)s", "logger": "gunicorn.access", "method": "%(m)s", "path": "%(U)s", '
    '"status": %(s)s, "bytes": "%(B)s", "duration_ms": %(M)s, '
    '"request_id": "%({x-request-id}o)s"}'
)
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Short-lived files in memory, not on a possibly slow disk (containers).
SHARED_MEMORY = "/dev/shm"  # noqa: S108 (gunicorn's heartbeat files, not data)
worker_tmp_dir = SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) else None
