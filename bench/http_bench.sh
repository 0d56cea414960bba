#!/bin/sh
# HTTP benchmark of the two hot API routes with wrk: GET /api/v1/locate (random points over the
# district) and GET /api/v1/grids/{code} (random grids, with geometry). Starts `civgrid serve` on a
# free loopback port against a generated demo database (or --db FILE), runs wrk for a bounded
# time per route, prints requests/s and p99 latency against the goal (>= 20k req/s, p99 < 10 ms
# with wrk and the server sharing the machine), and stops the server.
#
#   bench/http_bench.sh [--db FILE] [--duration SECONDS] [--threads N] [--connections N]
#   CIVGRID_BIN=build/civgrid bench/http_bench.sh
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
bin=${CIVGRID_BIN:-$here/build/civgrid}
db=""
duration=10
threads=2
connections=32
while [ $# -gt 0 ]; do
    case "$1" in
    --db) db=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    *) echo "usage: $0 [--db FILE] [--duration S] [--threads N] [--connections N]" >&2; exit 2 ;;
    esac
done
command -v wrk >/dev/null || { echo "http_bench: wrk is not installed" >&2; exit 77; }
[ -x "$bin" ] || { echo "http_bench: no civgrid binary at $bin (set CIVGRID_BIN)" >&2; exit 2; }

tmp=$(mktemp -d)
server=""
cleanup() {
    if [ -n "$server" ]; then
        kill -TERM "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

if [ -z "$db" ]; then
    "$bin" demo --out "$tmp/demo" --seed 3 >/dev/null
    db=$tmp/demo/civgrid.db
else
    # Work on a copy: the benchmark adds its own account.
    "$bin" backup --db "$db" "$tmp/bench.db" >/dev/null
    db=$tmp/bench.db
fi
# Every API route needs a login: an administrator for the benchmark, with a bearer token.
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$password" >"$tmp/password"
"$bin" user add bench --roles admin --db "$db" --password-file "$tmp/password" >/dev/null

: >"$tmp/serve.out"
"$bin" serve --db "$db" --port 0 --threads "$threads" --access-log "" >"$tmp/serve.out" 2>&1 &
server=$!
i=0
until grep -q "serving http://" "$tmp/serve.out"; do
    i=$((i + 1))
    if [ $i -gt 300 ] || ! kill -0 "$server" 2>/dev/null; then
        echo "http_bench: the server did not start:" >&2
        cat "$tmp/serve.out" >&2
        exit 1
    fi
    sleep 0.1
done
base=$(sed -n 's|.*serving \(http://[^/]*\)/.*|\1|p' "$tmp/serve.out")

# Request mixes as wrk Lua scripts: points inside grids (their bounding-box centres) and codes,
# drawn from the served grid list itself.
python3 - "$base" "$tmp" "$password" <<'PY'
import json, random, sys, urllib.request
base, tmp, password = sys.argv[1], sys.argv[2], sys.argv[3]
login = urllib.request.Request(base + "/api/v1/auth/login", method="POST",
                               data=json.dumps({"username": "bench", "password": password,
                                                "client": "token"}).encode(),
                               headers={"Content-Type": "application/json"})
token = json.load(urllib.request.urlopen(login))["token"]
auth = {"Authorization": "Bearer " + token}
fc = json.load(urllib.request.urlopen(urllib.request.Request(
    base + "/api/v1/grids?format=geojson&level=grid", headers=auth)))
rng = random.Random(3)
feats = fc["features"]
codes = [f["id"] for f in feats]
points = []
for f in feats:
    xs = [p[0] for poly in f["geometry"]["coordinates"] for p in poly[0]]
    ys = [p[1] for poly in f["geometry"]["coordinates"] for p in poly[0]]
    points.append(((min(ys) + max(ys)) / 2, (min(xs) + max(xs)) / 2))
def script(name, paths):
    with open("%s/%s.lua" % (tmp, name), "w") as out:
        out.write("local paths = {\n")
        for p in paths:
            out.write('  "%s",\n' % p)
        out.write("}\nlocal i = 0\nlocal headers = {[\"Authorization\"] = \"Bearer %s\"}\n"
                  "request = function()\n  i = i %% %d + 1\n"
                  "  return wrk.format(nil, paths[i], headers)\nend\n" % (token, len(paths)))
script("locate", ["/api/v1/locate?lat=%.6f&lon=%.6f" % rng.choice(points) for _ in range(2000)])
script("grid", ["/api/v1/grids/" + rng.choice(codes) for _ in range(2000)])
print("http_bench: %d grids served at %s" % (len(codes), base))
PY

echo "http_bench: wrk -t1 -c$connections -d${duration}s, server $threads threads, db $db"
fail=0
for route in locate grid; do
    out=$(wrk -t1 -c"$connections" -d"${duration}s" --latency -s "$tmp/$route.lua" "$base")
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    errors=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    p99ms=$(echo "$p99" | awk '/us$/ {sub("us",""); print $1/1000; next}
                               /ms$/ {sub("ms",""); print $1; next}
                               /s$/ {sub("s",""); print $1*1000}')
    verdict=$(awk -v r="$rps" -v p="$p99ms" 'BEGIN {print (r >= 20000 && p < 10) ? "ok" : "BELOW GOAL"}')
    [ "$verdict" = ok ] || fail=1
    label="GET /api/v1/locate"
    [ "$route" = grid ] && label="GET /api/v1/grids/{code}"
    printf '%-28s %10.0f req/s (%.2fx of 20k)  p99 %s  %s%s\n' "$label" "$rps" \
        "$(awk -v r="$rps" 'BEGIN {print r / 20000}')" "$p99" "$verdict" \
        "${errors:+  non-2xx: $errors}"
done
exit $fail
