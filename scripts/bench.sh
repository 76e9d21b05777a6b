#!/usr/bin/env bash
# Reproducible performance figures for Quiver against the baselines named in
# the issues, measured in the same run on the same generated data.
#
#   scripts/bench.sh [SIZE]      SIZE of the generated JSONL, default 1GB
#
# Needs Go and Node.js with npm (DuckDB's Node package is installed under
# $OUT/duckdb on first use). Output goes to $OUT (default ./bench-out).
# Each figure is printed as "name: seconds, MB/s of input, peak RSS, size".
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-1GB}
OUT=${OUT:-bench-out}
THREADS=${THREADS:-2}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

echo "== building"
go build -o "$OUT/dsctl" ./cmd/dsctl
go build -o "$OUT/gendata" ./internal/cmd/gendata

if [ ! -d "$OUT/duckdb/node_modules/@duckdb/node-api" ]; then
  echo "== installing DuckDB 1.5.6 (npm @duckdb/node-api) into $OUT/duckdb"
  mkdir -p "$OUT/duckdb"
  (cd "$OUT/duckdb" && npm init -y >/dev/null && npm install --silent @duckdb/node-api@1.5.6-r.1 >/dev/null)
fi
cp scripts/duckdb-run.mjs "$OUT/duckdb/run.mjs"

DATA="$OUT/data-$SIZE.jsonl"
if [ ! -f "$DATA" ]; then
  echo "== generating $SIZE of JSONL (seed 1)"
  "$OUT/gendata" -size "$SIZE" -seed 1 -o "$DATA"
fi
INBYTES=$(stat -c %s "$DATA")

# measure NAME INPUT_BYTES OUTPUT_FILE -- COMMAND...: runs COMMAND under
# /usr/bin/time -v and prints seconds, input MB/s, peak RSS and output size.
measure() {
  local name=$1 inbytes=$2 outfile=$3; shift 4
  local log="$OUT/time-$name.log"
  /usr/bin/time -v "$@" >/dev/null 2>"$log" || { echo "$name: FAILED"; tail -5 "$log"; return 1; }
  local secs rss size
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$log")
  size=$( [ -e "$outfile" ] && du -sb "$outfile" | cut -f1 || echo 0)
  awk -v n="$name" -v s="$secs" -v b="$inbytes" -v r="$rss" -v z="$size" \
    'BEGIN { printf "%-34s %7.2f s  %7.1f MB/s  peak RSS %5d MB  output %6.1f MB\n", n, s, b/1e6/s, r, z/1e6 }'
  echo "$name $secs $rss $size" >> "$OUT/results.txt"
}
: > "$OUT/results.txt"
duck() { node "$OUT/duckdb/run.mjs" "$THREADS" "$@"; }

echo "== JSONL -> Parquet (zstd), input $((INBYTES/1000000)) MB"
rm -f "$OUT/quiver.parquet" "$OUT/duckdb.parquet"
measure duckdb-jsonl-to-parquet "$INBYTES" "$OUT/duckdb.parquet" -- \
  node "$OUT/duckdb/run.mjs" "$THREADS" "COPY (SELECT * FROM read_json('$DATA', format='newline_delimited')) TO '$OUT/duckdb.parquet' (FORMAT parquet, COMPRESSION zstd)"
measure quiver-jsonl-to-parquet "$INBYTES" "$OUT/quiver.parquet" -- \
  "$OUT/dsctl" convert -q "$DATA" "$OUT/quiver.parquet"

echo "== JSONL -> 8 contiguous Parquet shards"
ROWS=$(wc -l < "$DATA")
rm -rf "$OUT/quiver-shards" "$OUT/duckdb-shards"
measure duckdb-jsonl-to-8-shards "$INBYTES" "$OUT/duckdb-shards" -- \
  node "$OUT/duckdb/run.mjs" "$THREADS" "COPY (SELECT *, (row_number() OVER () - 1) * 8 // $ROWS AS shard FROM read_json('$DATA', format='newline_delimited')) TO '$OUT/duckdb-shards' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (shard))"
measure quiver-jsonl-to-8-shards "$INBYTES" "$OUT/quiver-shards" -- \
  "$OUT/dsctl" shard -q "$DATA" --out "$OUT/quiver-shards" --num-shards 8

echo "== Parquet -> JSONL"
rm -f "$OUT/quiver.jsonl" "$OUT/duckdb.jsonl"
measure duckdb-parquet-to-jsonl "$INBYTES" "$OUT/duckdb.jsonl" -- \
  node "$OUT/duckdb/run.mjs" "$THREADS" "COPY (SELECT * FROM read_parquet('$OUT/quiver.parquet')) TO '$OUT/duckdb.jsonl' (FORMAT json)"
measure quiver-parquet-to-jsonl "$INBYTES" "$OUT/quiver.jsonl" -- \
  "$OUT/dsctl" convert -q "$OUT/quiver.parquet" "$OUT/quiver.jsonl"

echo "== Parquet -> Arrow IPC (parallel Parquet decode, IPC write)"
rm -f "$OUT/quiver.arrow"
measure quiver-parquet-to-arrow "$INBYTES" "$OUT/quiver.arrow" -- \
  "$OUT/dsctl" convert -q "$OUT/quiver.parquet" "$OUT/quiver.arrow"

echo "== ratios (baseline time / Quiver time; above 1 means Quiver is faster)"
awk '{t[$1]=$2} END {
  printf "JSONL->Parquet  vs DuckDB %d threads: %.2fx\n", '"$THREADS"', t["duckdb-jsonl-to-parquet"]/t["quiver-jsonl-to-parquet"];
  printf "Parquet->JSONL  vs DuckDB %d threads: %.2fx\n", '"$THREADS"', t["duckdb-parquet-to-jsonl"]/t["quiver-parquet-to-jsonl"];
  printf "JSONL->8 shards vs DuckDB %d threads: %.2fx\n", '"$THREADS"', t["duckdb-jsonl-to-8-shards"]/t["quiver-jsonl-to-8-shards"];
}' "$OUT/results.txt"

echo "== Go benchmarks (arrowio readers and writers)"
# The mapped scan and its byte-sum baseline take milliseconds: run them
# warm and often; everything else three times.
go test -run '^$' -bench 'MappedScan|MappedBytesBaseline' -benchtime 20x -count 3 ./arrowio/ 2>&1 | grep -E '^(Benchmark|FAIL)' || true
go test -run '^$' -bench . -skip 'MappedScan|MappedBytesBaseline' -benchtime 3x ./arrowio/ 2>&1 | grep -E '^(Benchmark|ok|FAIL)' || true
