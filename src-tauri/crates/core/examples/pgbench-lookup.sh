#!/usr/bin/env bash
# The database's ceiling for verification: pgbench running the very statement a cache-miss
# verification runs (store::tokens::find_by_hash: the token row by its hash, joined with its
# owner and creator) against a database of N tokens made through the real schema and the real
# inserts (`tessera init`, then `tessera dev seed --tokens N --events 0`).
#
#   src-tauri/crates/core/examples/pgbench-lookup.sh postgres://postgres@127.0.0.1:PORT [N]
#
# (`.ci/postgres.sh`'s `pg_start` gives a server.) Environment: CLIENTS (the client counts
# to try, "1 16"; 16 is the size of a server's read pool), SECONDS_EACH (10), ROUNDS (3),
# KEEP=1 to keep the database. The role must be allowed to create databases; the script
# creates tessera_pgbench_<pid> and drops it at the end (unless KEEP=1), nothing else.
#
# Each transaction is one statement, prepared (-M prepared, as sqlx prepares it) with the
# hash of a random existing token: the lookup is
#   <store::tokens::SELECT> WHERE t.hash = (SELECT hash FROM bench_hashes WHERE i = :k)
# with k random in 1..N (bench_hashes: every token's hash by row number, a table made for
# the run), and the baseline, in the same run and with the same clients, is that inner
# primary-key read alone: `SELECT (SELECT hash FROM bench_hashes WHERE i = :k)`. Their TPS
# ratio is what the joins and the index look-up by hash cost over a bare round trip. Rounds
# alternate the order (ABBA); the figure is the median of the rounds' ratios (each from two
# runs side by side), with the median TPS of each.
#
# The statement is read out of crates/core/src/store/tokens.rs (the SELECT constant and
# find_by_hash's WHERE), so it stays the code's; the script stops if it cannot find them.
# pgbench comes with the postgresql-15 package (PG_BIN, default /usr/lib/postgresql/15/bin).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
tokens_rs="$here/../src/store/tokens.rs"

server=${1:?usage: pgbench-lookup.sh postgres://USER@HOST:PORT [N]}
server=${server%/}
n=${2:-100000}
clients=${CLIENTS:-1 16}
secs=${SECONDS_EACH:-10}
rounds=${ROUNDS:-3}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
pgbench="$PG_BIN/pgbench"
psql="$PG_BIN/psql"
[ -x "$pgbench" ] || { echo "no pgbench at $pgbench (apt-get install postgresql-15, or set PG_BIN)" >&2; exit 1; }

# The SELECT constant: a Rust string whose lines end in `\` (the newline and the next line's
# leading blanks are not part of the string).
select_sql=$(awk '
  /^pub const SELECT: &str = "/ { on = 1; sub(/^pub const SELECT: &str = "/, "") }
  on {
    line = $0
    if (cont) sub(/^[ \t]+/, "", line)
    if (line ~ /";$/) { sub(/";$/, "", line); printf "%s", line; exit }
    if (line ~ /\\$/) { sub(/\\$/, "", line); cont = 1 } else { cont = 0; line = line "\n" }
    printf "%s", line
  }' "$tokens_rs")
where_sql=$(awk '
  /pub async fn find_by_hash/ { on = 1 }
  on && /format!\("\{SELECT\} / { s = $0; sub(/.*format!\("\{SELECT\} /, "", s); sub(/"\).*/, "", s); print s; exit }
  ' "$tokens_rs")
case "$select_sql" in "SELECT "*" FROM tokens t "*) ;; *)
  echo "cannot read store::tokens::SELECT out of $tokens_rs; update this script" >&2; exit 1 ;;
esac
if [ -z "$where_sql" ] || [ "$(grep -o '\$[0-9]*' <<<"$where_sql" | sort -u)" != "\$1" ]; then
  echo "find_by_hash's WHERE (\"$where_sql\") is not one condition on \$1; update this script" >&2
  exit 1
fi
lookup_sql="$select_sql ${where_sql//\$1/(SELECT hash FROM bench_hashes WHERE i = :k)}"

db="tessera_pgbench_$$"
url="$server/$db"
work=$(mktemp -d)
cleanup() {
  if [ "${KEEP:-}" != 1 ]; then
    "$psql" -qX "$server/postgres" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> $db: tessera init, then dev seed of $n tokens (debug CLI build)"
cd "$root"
cargo build -q -p tessera-cli
tessera=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/debug/tessera
export TESSERA_DATABASE_URL="$url" TESSERA_KEY_FILE="$work/shared.key" TESSERA_DATA_DIR="$work/data"
TESSERA_PASSWORD="correct horse battery staple" \
  "$tessera" init --company Bench --admin-email ada@bench.test --admin-name Ada >/dev/null
"$tessera" dev seed --tokens "$n" --events 0
unset TESSERA_DATABASE_URL TESSERA_KEY_FILE TESSERA_DATA_DIR

"$psql" -qX -v ON_ERROR_STOP=1 "$url" <<'SQL'
CREATE TABLE bench_hashes (i BIGINT PRIMARY KEY, hash BYTEA NOT NULL);
INSERT INTO bench_hashes SELECT row_number() OVER (ORDER BY id), hash FROM tokens;
VACUUM ANALYZE;
SQL
count=$("$psql" -qtAX "$url" -c "SELECT count(*) FROM bench_hashes")
echo "tokens in the database: $count"

printf '\\set k random(1, %s)\n%s;\n' "$count" "$lookup_sql" >"$work/lookup.sql"
printf '\\set k random(1, %s)\nSELECT (SELECT hash FROM bench_hashes WHERE i = :k);\n' "$count" >"$work/baseline.sql"
echo "==> the lookup statement (pgbench script):"
cat "$work/lookup.sql"
echo "==> its plan for one hash:"
"$psql" -qX "$url" -c "EXPLAIN ${lookup_sql//:k/1}"

# One pgbench run; prints its TPS (without connection time).
tps() { # script clients
  local jobs=$(( $2 < 2 ? $2 : 2 ))
  "$pgbench" -n -M prepared -T "$secs" -c "$2" -j "$jobs" -f "$work/$1.sql" "$url" 2>&1 |
    sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "==> pgbench: $rounds rounds of ${secs}s runs, baseline and lookup alternating, clients: $clients"
summary=()
for c in $clients; do
  : >"$work/b.$c"; : >"$work/l.$c"; : >"$work/r.$c"
  for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then order="baseline lookup"; else order="lookup baseline"; fi
    for s in $order; do
      t=$(tps "$s" "$c")
      [ -n "$t" ] || { echo "pgbench gave no TPS for $s at $c clients" >&2; exit 1; }
      echo "$t" >"$work/last.${s:0:1}"
      echo "$t" >>"$work/${s:0:1}.$c"
      printf '  %2s clients, round %s: %-8s %10.0f tps\n' "$c" "$r" "$s" "$t"
    done
    awk -v b="$(cat "$work/last.b")" -v l="$(cat "$work/last.l")" 'BEGIN { printf "%.4f\n", l / b }' >>"$work/r.$c"
  done
  b=$(median <"$work/b.$c")
  l=$(median <"$work/l.$c")
  ratio=$(median <"$work/r.$c")
  range=$(sort -g "$work/r.$c" | sed -n '1p;$p' | xargs printf '%.2f ' | sed 's/ $//; s/ / to /')
  summary+=("$(awk -v c="$c" -v b="$b" -v l="$l" -v r="$ratio" -v range="$range" -v n="$count" 'BEGIN {
    printf "%s client(s): look-up by hash / bare primary-key round trip %.2fx (rounds from %s; medians %.0f / %.0f tps; %s tokens)", c, r, range, l, b, n }')")
done
echo
echo "pgbench (-M prepared, ${secs}s runs, medians of $rounds; PostgreSQL $("$psql" -qtAX "$url" -c 'SHOW server_version'), $(nproc) cores shared by pgbench and the server):"
printf '%s\n' "${summary[@]}"
