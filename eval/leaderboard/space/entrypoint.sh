#!/bin/sh
# Container entry point of the leaderboard (Hugging Face Space or any Docker host).
#
# 1. State goes to $CONFLICTNEWS_DATA (/data: a Space's persistent storage); without a writable
#    /data (no persistent storage) it falls back to /tmp and says so: submissions are then lost
#    on restart unless CONFLICTNEWS_LB_DATABASE_URL points at PostgreSQL.
# 2. Gold: $CONFLICTNEWS_LB_GOLD if set; else $CONFLICTNEWS_DATA/gold, filled once from the
#    dataset repo $CONFLICTNEWS_LB_GOLD_REPO (revision $CONFLICTNEWS_LB_GOLD_REVISION; a private
#    repo for a blind test, read with the HF_TOKEN secret).
# 3. Migrations run on startup; uvicorn serves on 0.0.0.0:$PORT with $WEB_CONCURRENCY processes.
set -eu

DATA="${CONFLICTNEWS_DATA:-/data}"
if ! mkdir -p "$DATA" 2>/dev/null || ! [ -w "$DATA" ]; then
  echo "warning: $DATA is not writable (no persistent storage?); using /tmp/conflictnews" >&2
  DATA=/tmp/conflictnews
  mkdir -p "$DATA"
fi

export CONFLICTNEWS_LB_DATABASE_URL="${CONFLICTNEWS_LB_DATABASE_URL:-sqlite:///$DATA/leaderboard.sqlite}"
if [ -z "${CONFLICTNEWS_LB_GOLD:-}" ]; then
  export CONFLICTNEWS_LB_GOLD="$DATA/gold"
  if [ -n "${CONFLICTNEWS_LB_GOLD_REPO:-}" ]; then
    python - <<PY
import os
from huggingface_hub import snapshot_download

repo = os.environ["CONFLICTNEWS_LB_GOLD_REPO"]
revision = os.environ.get("CONFLICTNEWS_LB_GOLD_REVISION") or None
version = os.environ.get("CONFLICTNEWS_LB_GOLD_VERSION") or (revision or "latest").lstrip("v")
target = os.path.join("$DATA", "gold", version)
snapshot_download(repo, repo_type="dataset", revision=revision, local_dir=target)
print(f"gold: {repo}@{revision or 'main'} -> {target}")
PY
  fi
fi

exec python -m conflictnews.leaderboard serve --host 0.0.0.0 --port "${PORT:-7860}" \
  --processes "${WEB_CONCURRENCY:-1}" --log-level "${LOG_LEVEL:-info}"
