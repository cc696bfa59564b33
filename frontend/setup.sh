#!/usr/bin/env bash
# Installs the web tier's toolchain: the frontend venv (Reflex; its own lock, see pyproject.toml), axe-core and bun from
# npm (Reflex's own installer downloads bun from the internet, which self-hosted and CI machines may not reach).
# Idempotent and a fast no-op once done; `agentry.web.build` runs it when the venv is missing.
set -euo pipefail
cd "$(dirname "$0")"

# uv decides itself whether .venv matches uv.lock (fast when it does); don't let a caller's venv redirect it.
unset VIRTUAL_ENV
uv sync --frozen --quiet

# bun (build and serve) and axe-core (accessibility checks in the browser tests), as locked in tools/.
if [ ! -x tools/node_modules/.bin/bun ] || [ ! -f tools/node_modules/axe-core/axe.min.js ]; then
    npm ci --prefix tools --no-audit --no-fund --loglevel=error
fi
