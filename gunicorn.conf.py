"""gunicorn settings for the Procfile's web process (override with GUNICORN_* variables)."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_WORKERS", "3"))
worker_class = os.environ.get("WEB_WORKER_CLASS", "gthread")
threads = int(os.environ.get("WEB_THREADS", "8"))
timeout = 60
graceful_timeout = 5
accesslog = os.environ.get("ACCESS_LOG") or None
