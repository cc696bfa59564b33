# syntax=docker/dockerfile:1.19
# (1.19 or newer: COPY --exclude.)
#
# Agentry images, built with uv from the committed lock files.
#
#   docker build --target app -t agentry .        # `agentry api | worker | migrate | seed ...`
#   docker build --target web -t agentry-web .    # `agentry web` (Reflex UI)
#
# Two targets because the web tier has its own Python project (frontend/pyproject.toml, frontend/uv.lock):
# Reflex needs redis>=6.4 while Arq needs redis<6, so the two environments cannot be merged.

ARG PYTHON_VERSION=3.12
ARG UV_VERSION=0.13.9
ARG NODE_VERSION=20

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv
FROM node:${NODE_VERSION}-bookworm-slim AS node

# ---------------------------------------------------------------------------------------------------------------
# runtime: the bare Python image, uv, and the unprivileged user every process runs as.
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime

COPY --from=uv /uv /uvx /usr/local/bin/

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_FROZEN=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3

RUN groupadd --system --gid 10001 agentry \
 && useradd --system --uid 10001 --gid agentry --home-dir /home/agentry --create-home --shell /usr/sbin/nologin agentry \
 && install -d -o agentry -g agentry -m 0700 /var/lib/agentry

WORKDIR /app

# ---------------------------------------------------------------------------------------------------------------
# base: the main project (API, worker, CLI) in /app/.venv.
FROM runtime AS base

# Dependencies first, keyed only on the lock: source edits do not reinstall the world.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    uv sync --frozen --no-dev --no-install-project

# frontend/ is a separate project: only the web target gets it, from web-deps.
COPY --exclude=frontend . /app
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

# The code and the environment stay root-owned (read-only to the process); only the data dir is writable.
# With AGENTRY_DATABASE_URL / AGENTRY_REDIS_URL set (as in docker-compose.yml) nothing embedded starts.
ENV PATH=/app/.venv/bin:$PATH \
    AGENTRY_DATA_DIR=/var/lib/agentry \
    AGENTRY_ENV=production \
    AGENTRY_HOST=0.0.0.0

USER agentry

# ---------------------------------------------------------------------------------------------------------------
# app: API, worker and one-shot commands share this image; the command picks the process.
FROM base AS app

EXPOSE 8000
ENTRYPOINT ["agentry"]
CMD ["api"]

# ---------------------------------------------------------------------------------------------------------------
# web-deps: the frontend project's own environment (frontend/.venv) and bun from npm (frontend/tools).
FROM runtime AS web-deps

COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && install -d -o agentry -g agentry /app/frontend

# The Reflex build rewrites frontend/reflex.lock, so this tree belongs to the process user.
USER agentry
WORKDIR /app/frontend
ENV HOME=/home/agentry \
    PATH=/app/frontend/tools/node_modules/.bin:$PATH \
    REFLEX_USE_SYSTEM_BUN=1

COPY --chown=agentry:agentry frontend/tools/package.json frontend/tools/package-lock.json tools/
RUN --mount=type=cache,target=/home/agentry/.npm,uid=10001,gid=10001 \
    cd tools && npm ci --no-audit --no-fund

COPY --chown=agentry:agentry frontend/pyproject.toml frontend/uv.lock ./
RUN --mount=type=cache,target=/home/agentry/.cache/uv,uid=10001,gid=10001 \
    uv sync --frozen --no-dev --no-install-project

COPY --chown=agentry:agentry frontend/ ./
RUN --mount=type=cache,target=/home/agentry/.cache/uv,uid=10001,gid=10001 \
    uv sync --frozen --no-dev

# ---------------------------------------------------------------------------------------------------------------
# web: the `agentry` CLI from the main environment driving Reflex from the frontend environment.
FROM base AS web

USER root
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
COPY --from=web-deps --chown=agentry:agentry /app/frontend /app/frontend
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && chown agentry:agentry /app/frontend
USER agentry

ENV HOME=/home/agentry \
    PATH=/app/frontend/tools/node_modules/.bin:$PATH \
    REFLEX_USE_SYSTEM_BUN=1

# Export the UI now, exactly as `agentry web` would on first start (into <data dir>/web, keyed on the sources
# and AGENTRY_WEB_BACKEND_PORT): the container then starts in seconds and never needs the npm registry.
RUN python -c "from agentry import web; from backend.settings import get_settings; web.build(get_settings())"

# 3000: the UI; 8001: Reflex's event websocket, which browsers open on the page's hostname at this port.
EXPOSE 3000 8001
ENTRYPOINT ["agentry"]
CMD ["web"]
