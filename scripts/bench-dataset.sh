#!/usr/bin/env bash
# Dataset performance figures, each measured in the same run as its
# baseline on the same generated data:
#
#   scripts/bench-dataset.sh [SIZE]     SIZE of the generated JSONL, default 1GB
#
# Steps: generate JSONL (gendata, seed 1) if missing; load it into a Quiver
# cache; export it once as Parquet (the DuckDB input); then time, each as
# its own process under /usr/bin/time (wall seconds, peak RSS):
#   reload     open the cached dataset              (no baseline: < 50 ms, < 50 MB)
#   iterate    sequential vs shuffled/1000 iteration, one process (ratio)
#   filter     score > 0.5 to Parquet               vs DuckDB COPY ... WHERE
#   shuffle    full shuffle to Parquet              vs DuckDB ORDER BY random()
#   shards     8 contiguous Parquet shards          vs DuckDB PARTITION_BY
# Parquet outputs use zstd on both sides. DuckDB runs with $THREADS threads
# (default 2) through Node.js from $DUCKDB_DIR (default bench-out/duckdb,
# shared with bench.sh; DuckDB's Node package is installed there on first use); Quiver uses GOMAXPROCS=$THREADS.
# Output goes to $OUT (default ./bench-out/dataset). Quiver's own lines
# also split its peak RSS into anonymous memory and file-backed pages of
# the mapped cache (page cache the kernel may drop), which /usr/bin/time
# adds together.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-1GB}
OUT=${OUT:-bench-out/dataset}
THREADS=${THREADS:-2}
DUCKDB_DIR=${DUCKDB_DIR:-bench-out/duckdb}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
export GOMAXPROCS=$THREADS

echo "== building"
go build -o "$OUT/benchds" ./internal/cmd/benchds
go build -o "$OUT/gendata" ./internal/cmd/gendata
if [ ! -d "$DUCKDB_DIR/node_modules/@duckdb/node-api" ]; then
  echo "== installing DuckDB 1.5.6 (npm @duckdb/node-api) into $DUCKDB_DIR"
  mkdir -p "$DUCKDB_DIR"
  (cd "$DUCKDB_DIR" && npm init -y >/dev/null && npm install --silent @duckdb/node-api@1.5.6-r.1 >/dev/null)
fi
DUCKDB_DIR=$(cd "$DUCKDB_DIR" && pwd)
cp scripts/duckdb-run.mjs "$DUCKDB_DIR/quiver-bench-run.mjs"

DATA="$OUT/data-$SIZE.jsonl"
if [ ! -f "$DATA" ]; then
  echo "== generating $SIZE of JSONL (seed 1)"
  "$OUT/gendata" -size "$SIZE" -seed 1 -o "$DATA"
fi
CACHE="$OUT/cache-$SIZE"
Q=("$OUT/benchds" -cache "$CACHE" -in "$DATA")

# measure NAME -- COMMAND...: runs COMMAND under /usr/bin/time -v; prints
# and records wall seconds and peak RSS (MB).
measure() {
  local name=$1; shift 2
  local log="$OUT/time-$name.log"
  /usr/bin/time -v "$@" >"$OUT/out-$name.txt" 2>"$log" || { echo "$name: FAILED"; tail -5 "$log"; return 1; }
  local secs rss
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$log")
  printf "%-22s %8.2f s   peak RSS %6d MB   %s\n" "$name" "$secs" "$rss" "$(tail -1 "$OUT/out-$name.txt" | cut -d, -f2-)"
  echo "$name $secs $rss" >>"$OUT/results.txt"
}
: >"$OUT/results.txt"
DUCK=(node "$DUCKDB_DIR/quiver-bench-run.mjs" "$THREADS")
field() { awk -v n="$1" -v k="$2" '$1 == n { print $k }' "$OUT/results.txt"; }

echo "== loading into the Quiver cache (once)"
[ -d "$CACHE" ] || "${Q[@]}" load
PQ="$OUT/input-$SIZE.parquet"
[ -f "$PQ" ] || "${Q[@]}" parquet "$PQ"
ROWS=$("${Q[@]}" reload | awk '{for(i=1;i<=NF;i++) if ($(i+1) == "rows,") print $i}')
echo "rows: $ROWS; cache $(du -sh "$CACHE" | cut -f1); Parquet input $(du -sh "$PQ" | cut -f1)"

echo "== reload (open a cached dataset)"
for i in 1 2 3; do "${Q[@]}" reload; done | tee "$OUT/reload.txt"
measure reload -- "${Q[@]}" reload

echo "== iteration (sequential vs shuffled in batches of 1000)"
"${Q[@]}" iterate | tee "$OUT/iterate.txt"
"${Q[@]}" iterate | tee -a "$OUT/iterate.txt"

echo "== exports (Quiver from its cache, DuckDB from the Parquet input)"
rm -rf "$OUT"/q-* "$OUT"/d-*
measure quiver-filter -- "${Q[@]}" filter "$OUT/q-filter.parquet"
measure duckdb-filter -- "${DUCK[@]}" "COPY (SELECT * FROM read_parquet('$PQ') WHERE score > 0.5) TO '$OUT/d-filter.parquet' (FORMAT parquet, COMPRESSION zstd)"
measure quiver-shuffle -- "${Q[@]}" shuffle "$OUT/q-shuffle.parquet"
measure duckdb-shuffle -- "${DUCK[@]}" "COPY (SELECT * FROM read_parquet('$PQ') ORDER BY random()) TO '$OUT/d-shuffle.parquet' (FORMAT parquet, COMPRESSION zstd)"
measure quiver-shards -- "${Q[@]}" shards "$OUT/q-shards"
measure duckdb-shards -- "${DUCK[@]}" "COPY (SELECT *, (id * 8) // $ROWS AS shard FROM read_parquet('$PQ')) TO '$OUT/d-shards' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (shard))"

echo "== ratios (Quiver / DuckDB; below 1 is faster or smaller)"
for op in filter shuffle shards; do
  awk -v op="$op" -v qs="$(field quiver-$op 2)" -v ds="$(field duckdb-$op 2)" \
      -v qr="$(field quiver-$op 3)" -v dr="$(field duckdb-$op 3)" \
      'BEGIN { printf "%-8s time %.2f (%.2f s vs %.2f s)   peak RSS %.2f (%d MB vs %d MB)\n", op, qs/ds, qs, ds, qr/dr, qr, dr }'
done | tee "$OUT/ratios.txt"
