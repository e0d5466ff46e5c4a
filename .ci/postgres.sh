# Sourced by .ci/test (and usable by hand): a throwaway PostgreSQL 15 cluster for one run.
# `pg_start` sets TESSERA_TEST_POSTGRES (postgres://postgres@127.0.0.1:PORT) and PG_DIR;
# `pg_stop` stops the cluster and removes its directory. initdb refuses root, so the cluster
# runs as the `postgres` user; fsync is off (the data is thrown away).

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

pg_start() {
  # Below Linux's ephemeral range (32768 up), where outgoing connections take their ports;
  # a port taken meanwhile anyway gets another try on a new one.
  local port=${1:-$(( 20000 + RANDOM % 12000 ))} tries=1
  [ -z "${1:-}" ] || tries=0
  PG_DIR=$(mktemp -d /tmp/tessera-pg.XXXXXX)
  chmod 777 "$PG_DIR"
  local as=()
  [ "$(id -u)" -ne 0 ] || as=(runuser -u postgres --)
  "${as[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres >"$PG_DIR/initdb.log" 2>&1 || {
    cat "$PG_DIR/initdb.log" >&2; return 1; }
  echo "$port" >"$PG_DIR/port"
  export PG_DIR PG_PORT=$port
  while ! pg_server_start 2>"$PG_DIR/start.err"; do
    if [ "$tries" -ge 1 ] && [ "$tries" -lt 5 ] && grep -q "Address already in use" "$PG_DIR/start.err"; then
      tries=$(( tries + 1 ))
      port=$(( 20000 + RANDOM % 12000 ))
      echo "$port" >"$PG_DIR/port"
      export PG_PORT=$port
      continue
    fi
    cat "$PG_DIR/start.err" >&2
    return 1
  done
  export TESSERA_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port"
}

# Start (again) the server of the cluster in PG_DIR, on its port, with the run's options.
pg_server_start() {
  local as=() port
  [ "$(id -u)" -ne 0 ] || as=(runuser -u postgres --)
  port=$(cat "$PG_DIR/port")
  "${as[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
    start >/dev/null || { cat "$PG_DIR/log" >&2; return 1; }
}

# Stop the server of the cluster in PG_DIR as an administrator would (fast: connections are
# closed), keeping its data.
pg_server_stop() {
  local as=()
  [ "$(id -u)" -ne 0 ] || as=(runuser -u postgres --)
  "${as[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  local as=()
  [ "$(id -u)" -ne 0 ] || as=(runuser -u postgres --)
  "${as[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  unset PG_DIR TESSERA_TEST_POSTGRES
}

# The tests that run on PostgreSQL: all of the core, API and CLI suites but those about the
# embedded SQLite store itself (tampering with its file directly, its WAL, its key file
# beside the database and the OS keyring).
PG_FILTER='not (test(/^audit_chain::/)
  | test(=a_missing_key_is_reported_instead_of_breaking_tokens)
  | test(=a_thousand_issued_tokens_appear_nowhere_at_rest)
  | test(/the_rebuild_of_the_tokens_table/)
  | test(=auto_keystore_without_a_session_bus_falls_back_to_the_key_file)
  | test(=the_key_file_fallback_is_0600_and_warned_about_on_every_start))'
