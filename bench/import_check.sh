#!/usr/bin/env bash
# Import the `city` demo's grids from GeoJSON into a fresh database and check their topology;
# prints each step's time. Target (issue: foundation): import + check < 30 s.
# usage: bench/import_check.sh [BUILD_DIR]   (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build}/civgrid
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
now() { date +%s.%N; }
t0=$(now)
"$BIN" demo --size city --out "$TMP/city" >/dev/null
t1=$(now)
"$BIN" grids list --db "$TMP/city/civgrid.db" --geojson > "$TMP/city.geojson"
t2=$(now)
"$BIN" import grids "$TMP/city.geojson" --db "$TMP/imported.db" | tail -1
t3=$(now)
set +e
"$BIN" grids check --db "$TMP/imported.db" --quiet | tail -1
status=$?
set -e
t4=$(now)
grids=$(grep -o '"type":"Feature"' "$TMP/city.geojson" | wc -l)
printf 'city demo generated in %.1f s; %d grids exported in %.1f s (%s MB GeoJSON)\n' \
  "$(echo "$t1 - $t0" | bc)" "$grids" "$(echo "$t2 - $t1" | bc)" "$(du -m "$TMP/city.geojson" | cut -f1)"
printf 'import: %.2f s   check: %.2f s   import+check: %.2f s (target < 30 s; ratio to target %.2f)\n' \
  "$(echo "$t3 - $t2" | bc)" "$(echo "$t4 - $t3" | bc)" "$(echo "$t4 - $t2" | bc)" \
  "$(echo "($t4 - $t2) / 30" | bc -l)"
[ "$status" -eq 0 ] || { echo "topology check found problems (exit $status)"; exit 1; }
