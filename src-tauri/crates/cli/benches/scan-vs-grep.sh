#!/usr/bin/env bash
# `tessera scan` against `grep -rEo` with the published pattern over the same files, same run.
#
#   src-tauri/crates/cli/benches/scan-vs-grep.sh [MIB] [ROUNDS]
#
# Writes MIB mebibytes of text (default 1024) as 16 MiB files under a temp dir: source-like
# lines with a token-shaped string every ~64 KiB (100 distinct ones, so the scanner's look-ups
# are few and the figure is about reading and matching), then times, in alternating order (ABBA
# per round, default 3 rounds, page cache warm from a first pass of each), `grep -rEo
# 'tsr_[upcas]_[0-9A-Za-z]{36}' DIR` and `tessera scan DIR --json` (release build, an initialised
# data dir of its own). Both print every match into a pipe. The figure is the
# median over rounds of grep's time / tessera's time: tessera's speed as a fraction of grep's
# (the target is at least 0.5). Needs python3 to write the files. Removes everything at the end.
set -euo pipefail
mib=${1:-1024}
rounds=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
work=$(mktemp -d /tmp/tessera-scan-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "building tessera (release)" >&2
(cd "$root" && cargo build --release -p tessera-cli --quiet)
target=$(cd "$root" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
tessera="$target/release/tessera"

echo "writing $mib MiB of text" >&2
python3 - "$work/files" "$mib" <<'PY'
import os, random, string, sys
out, mib = sys.argv[1], int(sys.argv[2])
os.makedirs(out)
rnd = random.Random(7)
alnum = string.ascii_letters + string.digits
tokens = ["tsr_%s_%s" % (rnd.choice("upc"), "".join(rnd.choice(alnum) for _ in range(36))) for _ in range(100)]
words = ["let", "config", "value", "return", "if", "else", "for", "user", "request", "token", "api", "key",
         "=", "(", ")", "{", "}", ";", "//", "https://example.test/v1/items", "0x1f", "42", "None", "self"]
lines = []
for i in range(20000):
    lines.append(" ".join(rnd.choice(words) for _ in range(rnd.randint(4, 14))))
chunk = "\n".join(lines) + "\n"
per_file = 16 << 20
total = mib << 20
written, n = 0, 0
while written < total:
    size = min(per_file, total - written)
    with open(os.path.join(out, "part-%04d.txt" % n), "w") as f:
        w = 0
        while w < size:
            piece = chunk[: min(len(chunk), 64 << 10)]
            piece += "API_TOKEN=" + rnd.choice(tokens) + "\n"
            f.write(piece)
            w += len(piece)
    written += size
    n += 1
PY
du -sh "$work/files" >&2

export TESSERA_DATA_DIR="$work/data" TESSERA_KEYSTORE=file TESSERA_PASSWORD="bench bench bench bench"
"$tessera" init --company Bench --admin-email bench@example.com --admin-name Bench >/dev/null 2>&1

pattern='tsr_[upcas]_[0-9A-Za-z]{36}'
# Both write every match into a pipe: GNU grep stops at the first match when its output is
# /dev/null itself, which would time nothing.
run_grep() { grep -rEo "$pattern" "$work/files" | wc -l >/dev/null; }
run_tessera() { "$tessera" scan "$work/files" --json 2>/dev/null | wc -l >/dev/null; }
seconds() { local s e; s=$(date +%s.%N); "$@"; e=$(date +%s.%N); echo "$e - $s" | bc -l; }

# Warm the page cache and check both find the same number of matches.
g=$(grep -rEo "$pattern" "$work/files" | wc -l)
t=$("$tessera" scan "$work/files" --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' || true)
echo "matches: grep $g, tessera $t" >&2
[ "$g" = "$t" ] || { echo "error: grep and tessera found different numbers of tokens" >&2; exit 1; }

ratios=()
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) -eq 1 ]; then
    a=$(seconds run_grep); b=$(seconds run_tessera); b2=$(seconds run_tessera); a2=$(seconds run_grep)
  else
    b=$(seconds run_tessera); a=$(seconds run_grep); a2=$(seconds run_grep); b2=$(seconds run_tessera)
  fi
  ratio=$(echo "($a + $a2) / ($b + $b2)" | bc -l)
  printf 'round %d: grep %.2f s, tessera %.2f s, tessera speed / grep speed %.2f\n' \
    "$r" "$(echo "($a + $a2) / 2" | bc -l)" "$(echo "($b + $b2) / 2" | bc -l)" "$ratio"
  ratios+=("$ratio")
done
printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {printf "median ratio over %d rounds: %.2f (%d MiB)\n", NR, a[int((NR+1)/2)], '"$mib"'}'
