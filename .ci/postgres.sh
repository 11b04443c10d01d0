# Start PostgreSQL for the leaderboard's database tests (sourced by .ci/run, so the export reaches pytest).
# Without CONFLICTNEWS_TEST_DATABASE_URL the PostgreSQL variants of the tests are skipped (SQLite always runs).
if command -v pg_ctlcluster >/dev/null 2>&1; then
  PG_VERSION=$(ls /usr/lib/postgresql | sort -V | tail -1)
  pg_lsclusters -h | grep -q "^$PG_VERSION main" || pg_createcluster "$PG_VERSION" main
  pg_ctlcluster "$PG_VERSION" main start || true          # already running is fine
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
  su postgres -c "psql -q -v ON_ERROR_STOP=1" <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cnlb') THEN
    CREATE ROLE cnlb LOGIN PASSWORD 'cnlb';
  END IF;
END $$;
SQL
  su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = 'cnlb_test'\"" | grep -q 1 \
    || su postgres -c "createdb -O cnlb cnlb_test"
  # a local, test-only role on loopback; not a secret
  export CONFLICTNEWS_TEST_DATABASE_URL="postgresql+psycopg://cnlb:cnlb@127.0.0.1:5432/cnlb_test"
fi
