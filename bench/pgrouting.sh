#!/usr/bin/env bash
# civgrid's routing beside pgRouting on the same graph: civgrid's own car graph of the
# Heidelberg extract (bench_ch --write-graph) is loaded into a throwaway PostgreSQL cluster
# (loopback only, in a temporary directory, removed at exit) with pgRouting; the same random
# pairs are answered by pgr_dijkstra and the same 2-minute driving distances by
# pgr_drivingDistance. Prints time per query for each, the ratios to civgrid's hierarchy and
# Dijkstra, and checks that the travel times and the reached-node counts agree.
#
# needs: postgresql-15, postgresql-15-pgrouting, postgresql-15-postgis-3 (Debian), python3;
# run as root (the cluster runs as the postgres user) or as any user who may run initdb.
# usage: bench/pgrouting.sh [BUILD_DIR] [PBF] [PAIRS]   (default build-route, Heidelberg, 200)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
PBF=${2:-../shared/data/osm/heidelberg.test.pbf}
PAIRS=${3:-200}
PGBIN=/usr/lib/postgresql/15/bin
# The peer comes from Debian's packages: install it on first use (benchmarks only; the civgrid
# binary does not need it, so scripts/setup does not install it).
if [ ! -x "$PGBIN/initdb" ] || ! ls /usr/share/postgresql/15/extension/pgrouting.control >/dev/null 2>&1; then
    echo "pgrouting.sh: installing postgresql-15-pgrouting and postgresql-15-postgis-3"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        postgresql-15 postgresql-15-pgrouting postgresql-15-postgis-3 >/dev/null
fi
[ -x "$PGBIN/initdb" ] || { echo "pgrouting.sh: PostgreSQL 15 is not installed"; exit 77; }
[ -f /usr/share/postgresql/15/extension/pgrouting.control ] ||
    { echo "pgrouting.sh: postgresql-15-pgrouting is not installed"; exit 77; }
[ -f "$PBF" ] || { echo "pgrouting.sh: $PBF is absent"; exit 77; }

TMP=$(mktemp -d)
AS=()
if [ "$(id -u)" = 0 ]; then
    chown postgres "$TMP"
    AS=(runuser -u postgres --)
fi
PORT=$((20000 + RANDOM % 20000))
cleanup() {
    "${AS[@]}" "$PGBIN/pg_ctl" -D "$TMP/db" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

echo "== civgrid (bench_ch) on $PBF"
"$BUILD"/bench/bench_ch --pairs "$PAIRS" --dijkstra "$PAIRS" --write-graph "$TMP/g.bin" "$PBF" |
    tee "$TMP/civgrid.txt" | grep -E "graph:|point-to-point|Dijkstra|driving"
chmod a+r "$TMP"/g.bin*

python3 - "$TMP/g.bin" "$TMP/edges.csv" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
n, m = struct.unpack_from("<II", data, 0)
tail = struct.unpack_from("<%dI" % m, data, 8)
head = struct.unpack_from("<%dI" % m, data, 8 + 4 * m)
ms = struct.unpack_from("<%dI" % m, data, 8 + 8 * m)
with open(sys.argv[2], "w") as f:
    for i in range(m):
        f.write("%d,%d,%d,%.3f,-1\n" % (i + 1, tail[i], head[i], ms[i] / 1000.0))
PY
chmod a+r "$TMP/edges.csv"

"${AS[@]}" "$PGBIN/initdb" -D "$TMP/db" -A trust -U postgres >/dev/null
"${AS[@]}" "$PGBIN/pg_ctl" -D "$TMP/db" -l "$TMP/db.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $TMP -c fsync=off" start >/dev/null
PSQL=("${AS[@]}" psql -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)
"${PSQL[@]}" <<SQL
CREATE EXTENSION postgis;
CREATE EXTENSION pgrouting;
CREATE TABLE edges (id bigint, source bigint, target bigint, cost float8, reverse_cost float8);
\copy edges FROM '$TMP/edges.csv' WITH (FORMAT csv)
CREATE INDEX ON edges (source);
ANALYZE edges;
SQL

# Point to point: one pgr_dijkstra call per pair, as an application would ask.
awk -v q="'" '{printf "SELECT %d, %d, %s, coalesce((SELECT max(agg_cost) FROM pgr_dijkstra(%sSELECT id, source, target, cost, reverse_cost FROM edges%s, %d, %d, true)), 0);\n", $1, $2, $3, q, q, $1, $2}' \
    "$TMP/g.bin.pairs" > "$TMP/p2p.sql"
start=$(date +%s.%N)
"${PSQL[@]}" -A -t -F ' ' -f "$TMP/p2p.sql" > "$TMP/p2p.out"
end=$(date +%s.%N)
# Driving distance, 120 s, from the same sources civgrid searched from.
awk -v q="'" '{printf "SELECT %d, count(*), sum(agg_cost) FROM pgr_drivingDistance(%sSELECT id, source, target, cost, reverse_cost FROM edges%s, %d, 120, true);\n", $1, q, q, $1}' \
    "$TMP/g.bin.dd" > "$TMP/dd.sql"
dstart=$(date +%s.%N)
"${PSQL[@]}" -A -t -F ' ' -f "$TMP/dd.sql" > "$TMP/dd.out"
dend=$(date +%s.%N)

python3 - "$TMP" "$start" "$end" "$dstart" "$dend" <<'PY'
import re, sys
tmp, s, e, ds, de = sys.argv[1], *map(float, sys.argv[2:])
civ = open(tmp + "/civgrid.txt").read()
ch_us = float(re.search(r"hierarchy ([0-9.]+) us/query", civ).group(1))
dj_ms = float(re.search(r"Dijkstra ([0-9.]+) ms/query", civ).group(1))
dd_ms = float(re.search(r"driving distance \(120 s, one source\): ([0-9.]+) ms", civ).group(1))
rows = [l.split() for l in open(tmp + "/p2p.out") if l.strip()]
bad = [r for r in rows if abs(float(r[3]) - float(r[2]) / 1000.0) > 0.002]
pg_ms = (e - s) / len(rows) * 1000
print("== pgRouting 3 (PostgreSQL 15, loopback, one call per query, the graph read by each call)")
print("pgr_dijkstra: %.1f ms/query over %d pairs; civgrid Dijkstra %.2f ms (%.0fx faster), "
      "hierarchy %.1f us (%.0fx faster)" % (pg_ms, len(rows), dj_ms, pg_ms / dj_ms, ch_us,
                                           pg_ms * 1000 / ch_us))
print("travel times: %d of %d pairs differ by more than 2 ms" % (len(bad), len(rows)))
dd = {l.split()[0]: l.split()[1:] for l in open(tmp + "/g.bin.dd")}
pg = [l.split() for l in open(tmp + "/dd.out") if l.strip()]
pg_dd = (de - ds) / len(pg) * 1000
mism = [r for r in pg if int(r[1]) != int(dd[r[0]][0]) or abs(float(r[2]) - float(dd[r[0]][1])) > 0.01 * float(r[2]) + 1]
print("pgr_drivingDistance (120 s): %.1f ms/query; civgrid bounded Dijkstra %.2f ms (%.0fx faster); "
      "%d of %d sources reach a different node count or time sum" % (pg_dd, dd_ms, pg_dd / dd_ms, len(mism), len(pg)))
sys.exit(1 if bad or mism else 0)
PY
