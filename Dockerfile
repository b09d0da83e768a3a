# syntax=docker/dockerfile:1
# The outreach bot (htx-outreach) as a container image.
#
#   docker build -t htx-outreach .
#   docker run --rm htx-outreach doctor          # any `outreach` command
#
# Base images are tags, not digests: pin a digest in your own registry if you need
# byte-for-byte reproducible builds.

ARG PYTHON_IMAGE=python:3.12-slim

# ---- builder: install the package and its wheels into a virtual environment ----------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1

# Same path as in the final stage: a venv's scripts name their interpreter by absolute path.
RUN python -m venv /opt/venv

WORKDIR /src
# Only what the wheel is built from; tests, bench and secrets stay out (see .dockerignore).
COPY pyproject.toml README.md COPYING ./
COPY bot ./bot
COPY db ./db
COPY messages ./messages
COPY schedules ./schedules

# Every dependency ships binary wheels (psycopg[binary], matplotlib, aiohttp...), so no
# compiler is needed. A regular (not editable) install: /src is not needed afterwards.
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/venv/bin/pip install /src

# ---- final: the venv, a non-root user, nothing else -----------------------------------------
FROM ${PYTHON_IMAGE}

# Give the address of the source you run (GPL-3.0: users may ask for it):
#   docker build --build-arg SOURCE_URL=https://git.example.org/htx-outreach .
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="htx-outreach" \
      org.opencontainers.image.description="Outreach bot for Vietnamese cooperatives (Telegram, Zalo)" \
      org.opencontainers.image.licenses="GPL-3.0-or-later" \
      org.opencontainers.image.source="${SOURCE_URL}"

# A fixed uid so files on bind mounts and volumes keep one owner across rebuilds; the home
# directory gives matplotlib a writable cache for the report charts.
RUN groupadd --system --gid 10001 outreach \
    && useradd --system --uid 10001 --gid outreach --create-home --home-dir /home/outreach \
        --shell /usr/sbin/nologin outreach \
    && install -d -o outreach -g outreach -m 0750 /data /app

COPY --from=builder /opt/venv /opt/venv

# PYTHONDONTWRITEBYTECODE: the venv is root's and read-only to the bot; pip compiled it already.
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATABASE_URL=sqlite:////data/outreach.db \
    OUTREACH_WEB_HOST=0.0.0.0 \
    OUTREACH_WEB_PORT=8080 \
    LOG_FORMAT=json

WORKDIR /app
# SQLite lives here when DATABASE_URL is left at its default: one instance only.
VOLUME ["/data"]
# The user outreach, by number so that Kubernetes' runAsNonRoot can check it is not root.
USER 10001:10001

# The web server: /webhooks/* for the reverse proxy; /healthz and /metrics stay internal.
EXPOSE 8080

# No curl in the slim image: Python's urllib. A 503 raises, so the check fails.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('OUTREACH_WEB_PORT', '8080') + '/healthz', timeout=4)"]

# SIGTERM (the default stop signal) makes the bot finish the batch in hand: allow ~30 s
# (docker stop -t 30, compose stop_grace_period).
ENTRYPOINT ["outreach"]
CMD ["run"]
