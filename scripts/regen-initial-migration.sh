#!/usr/bin/env bash
# Regenerates migrations/versions/0001_initial.py from the ORM models.
# Only valid before the first release (no deployed database depends on 0001 yet).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=$(mktemp -d /tmp/agentry-regen.XXXX)
trap 'mv "$DIR"/hold/*.py migrations/versions/ 2>/dev/null || true; uv run python -c "from backend.embedded import stop_postgres; from pathlib import Path; stop_postgres(Path(\"$DIR/postgres\"))"; rm -rf "$DIR"' EXIT
URL=$(uv run python -c "
from pathlib import Path
from backend.embedded import ensure_postgres
print(ensure_postgres(Path('$DIR')).url())")
rm -f migrations/versions/0001_initial.py
# Later, hand-written revisions (triggers, data) are set aside while 0001 is generated.
HOLD="$DIR/hold"; mkdir -p "$HOLD"
find migrations/versions -maxdepth 1 -name '0*.py' -exec mv {} "$HOLD"/ \;
uv run python - "$URL" <<'PY'
import sys
from alembic import command
from backend.db.migrate import alembic_config
cfg = alembic_config(sys.argv[1])
command.revision(cfg, message="initial", autogenerate=True, rev_id="0001")
PY
mv "$HOLD"/*.py migrations/versions/ 2>/dev/null || true
uv run ruff format migrations/versions/0001_initial.py >/dev/null
uv run python - "$URL" <<'PY'
import sys
from backend.db.migrate import upgrade, check
upgrade(sys.argv[1]); check(sys.argv[1]); print("0001_initial regenerated; upgrade + check OK")
PY
