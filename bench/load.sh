#!/bin/sh
# Load test: wrk on loopback, 1,000 concurrent connections for 60 s by default, mixing reads (grid
# list, grid read, locate, me) with writes (POST /api/v1/cases when the server has it, otherwise
# PUT /api/v1/grids/{code}/team), one in WRITE_EVERY requests a write. Starts `civgrid serve` on a
# free loopback port against a generated demo database (or --db FILE, copied first), warms up,
# then reports requests/s, p50/p99 latency, errors (non-2xx answers by kind, socket errors and
# timeouts) and the server's memory (VmRSS, VmHWM and RssAnon from /proc) before and after the run.
# Exits 1 on any error or when the heap (RssAnon) grew by more than MAX_GROWTH_MB after warm-up.
#
#   bench/load.sh [--db FILE]
#   DURATION=60 CONNECTIONS=1000 THREADS=2 WRITE_EVERY=10 WARMUP=40 MAX_GROWTH_MB=16 bench/load.sh
#   CIVGRID_BIN=build/civgrid bench/load.sh
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
bin=${CIVGRID_BIN:-$here/build/civgrid}
duration=${DURATION:-60}
connections=${CONNECTIONS:-1000}
threads=${THREADS:-2}
write_every=${WRITE_EVERY:-10}
warmup=${WARMUP:-40}  # long enough for the per-connection SQLite page caches (16 MB each, bounded) to fill
max_growth_mb=${MAX_GROWTH_MB:-16}
wrk_threads=${WRK_THREADS:-2}
db=""
while [ $# -gt 0 ]; do
    case "$1" in
    --db) db=$2; shift 2 ;;
    *) echo "usage: $0 [--db FILE]  (env: DURATION CONNECTIONS THREADS WRITE_EVERY WARMUP)" >&2
       exit 2 ;;
    esac
done
command -v wrk >/dev/null || { echo "load: wrk is not installed" >&2; exit 77; }
[ -x "$bin" ] || { echo "load: no civgrid binary at $bin (set CIVGRID_BIN)" >&2; exit 2; }
# wrk and the server each need a descriptor per connection.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((connections + 200)) ]; then
    echo "load: ulimit -n is $(ulimit -n), below the $((connections + 200)) needed" >&2
    exit 2
fi

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
    "$bin" backup --db "$db" "$tmp/load.db" >/dev/null
    db=$tmp/load.db
fi
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$password" >"$tmp/password"
"$bin" user add loadtest --roles admin --db "$db" --password-file "$tmp/password" >/dev/null

write_route=team
"$bin" serve --routes | grep -q '^POST /api/v1/cases$' && write_route=cases

: >"$tmp/serve.out"
"$bin" serve --db "$db" --port 0 --threads "$threads" --access-log "" \
    --max-connections $((connections + 100)) >"$tmp/serve.out" 2>&1 &
server=$!
i=0
until grep -q "serving http://" "$tmp/serve.out"; do
    i=$((i + 1))
    if [ $i -gt 300 ] || ! kill -0 "$server" 2>/dev/null; then
        echo "load: the server did not start:" >&2
        cat "$tmp/serve.out" >&2
        exit 1
    fi
    sleep 0.1
done
base=$(sed -n 's|.*serving \(http://[^/]*\)/.*|\1|p' "$tmp/serve.out")

# The request mix as a wrk Lua script, drawn from the served grids themselves.
python3 - "$base" "$tmp" "$password" "$write_every" "$write_route" <<'PY'
import json, random, sys, urllib.request
base, tmp, password, write_every, write_route = sys.argv[1:6]
login = urllib.request.Request(base + "/api/v1/auth/login", method="POST",
                               data=json.dumps({"username": "loadtest", "password": password,
                                                "client": "token"}).encode(),
                               headers={"Content-Type": "application/json"})
token = json.load(urllib.request.urlopen(login))["token"]
auth = {"Authorization": "Bearer " + token}
fc = json.load(urllib.request.urlopen(urllib.request.Request(
    base + "/api/v1/grids?format=geojson&level=grid", headers=auth)))
rng = random.Random(5)
feats = fc["features"]
codes = [f["id"] for f in feats]
points = []
for f in feats:
    xs = [p[0] for poly in f["geometry"]["coordinates"] for p in poly[0]]
    ys = [p[1] for poly in f["geometry"]["coordinates"] for p in poly[0]]
    points.append(((min(ys) + max(ys)) / 2, (min(xs) + max(xs)) / 2))
reads = []
for _ in range(500):
    reads.append("/api/v1/grids?limit=20&offset=%d" % rng.randrange(0, max(1, len(codes) - 20)))
    reads.append("/api/v1/grids/" + rng.choice(codes))
    reads.append("/api/v1/locate?lat=%.6f&lon=%.6f" % rng.choice(points))
    reads.append("/api/v1/auth/me")
writes = []
for i in range(500):
    code = rng.choice(codes)
    lat, lon = rng.choice(points)
    if write_route == "cases":
        writes.append(("POST", "/api/v1/cases", json.dumps({
            "category": "0101", "description": "load test %d (bench/load.sh)" % i,
            "lon": round(lon, 6), "lat": round(lat, 6)})))
    else:
        writes.append(("PUT", "/api/v1/grids/%s/team" % code,
                       json.dumps({"leader": None, "deputy": None, "members": []})))
lua = open("%s/mix.lua" % tmp, "w")
lua.write("local reads = {\n%s}\n" % "".join('  "%s",\n' % p for p in reads))
lua.write("local writes = {\n%s}\n" % "".join(
    '  {"%s", "%s", %s},\n' % (m, p, json.dumps(b)) for m, p, b in writes))
lua.write(r'''
local token = "%s"
local every = %d
local get_headers = {["Authorization"] = "Bearer " .. token}
local put_headers = {["Authorization"] = "Bearer " .. token,
                     ["Content-Type"] = "application/json"}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  n = 0
  bad, writes_sent = 0, 0
  statuses = {}
  math.randomseed(os.time() + math.random(1000000))
end

request = function()
  n = n + 1
  if n %% every == 0 then
    local w = writes[math.random(#writes)]
    writes_sent = writes_sent + 1
    return wrk.format(w[1], w[2], put_headers, w[3])
  end
  return wrk.format("GET", reads[math.random(#reads)], get_headers)
end

-- Answers come back in any order across a thread's connections, so errors are counted by
-- status, not attributed to a kind of request.
response = function(status, headers, body)
  if status < 200 or status > 299 then
    bad = bad + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

done = function(summary, latency, requests)
  local b, ws = 0, 0
  local all = {}
  for _, t in ipairs(threads) do
    b = b + t:get("bad")
    ws = ws + t:get("writes_sent")
    for k, v in pairs(t:get("statuses")) do all[k] = (all[k] or 0) + v end
  end
  local s = ""
  for k, v in pairs(all) do s = s .. " " .. k .. "x" .. v end
  io.write(string.format("LOAD requests=%%d writes_sent=%%d non2xx=%%d sock_connect=%%d " ..
    "sock_read=%%d sock_write=%%d sock_timeout=%%d p50_ms=%%.2f p99_ms=%%.2f max_ms=%%.2f " ..
    "statuses=%%s\n",
    summary.requests, ws, b, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, s == "" and "-" or s))
end
''' % (token, int(write_every)))
lua.close()
print("load: %d grids served at %s, writes by %s" % (len(codes), base,
      "POST /api/v1/cases" if write_route == "cases" else "PUT /api/v1/grids/{code}/team"))
PY

# VmRSS, VmHWM and RssAnon of the server in MB. The growth check uses RssAnon, the server's own
# heap: VmRSS also counts the database pages read through SQLite's memory map (file pages the
# kernel shares and may drop), which grow with what has been read, not with what was leaked.
mem() {
    awk '/^VmRSS/ {r = $2} /^VmHWM/ {h = $2} /^RssAnon/ {a = $2}
         END {printf "%.1f %.1f %.1f", r / 1024, h / 1024, a / 1024}' "/proc/$server/status"
}

echo "load: server $threads threads; wrk -t$wrk_threads -c$connections; one write in $write_every"
echo "load: memory at start: RSS/HWM/anon $(mem) MB"
if [ "$warmup" -gt 0 ]; then
    wrk -t"$wrk_threads" -c"$connections" -d"${warmup}s" --timeout 10s -s "$tmp/mix.lua" \
        "$base" >"$tmp/warmup.out" 2>&1
    warm=$(grep '^LOAD' "$tmp/warmup.out" || true)
    echo "load: warm-up ${warmup}s: ${warm#LOAD }"
fi
before=$(mem)
echo "load: memory before the run: RSS/HWM/anon $before MB"
wrk -t"$wrk_threads" -c"$connections" -d"${duration}s" --timeout 10s --latency \
    -s "$tmp/mix.lua" "$base" >"$tmp/wrk.out" 2>&1
after=$(mem)
grep -E 'Requests/sec|Latency  ' "$tmp/wrk.out" | sed 's/^/load: /'
line=$(grep '^LOAD' "$tmp/wrk.out" || true)
[ -n "$line" ] || { echo "load: wrk gave no summary:" >&2; cat "$tmp/wrk.out" >&2; exit 1; }
echo "load: ${duration}s: ${line#LOAD }"
echo "load: memory after the run: RSS/HWM/anon $after MB"
kill -0 "$server" 2>/dev/null || { echo "load: the server died" >&2; exit 1; }

rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out")
errors=$(echo "$line" | tr ' ' '\n' | awk -F= '/^(non2xx|sock_)/ {s += $2} END {print s + 0}')
growth=$(echo "$before $after" | awk '{printf "%.1f", $6 - $3}')
printf 'load: %.0f req/s, %s errors, RSS %s -> %s MB, heap (RssAnon) %s -> %s MB (%+.1f MB)\n' \
    "$rps" "$errors" "${before%% *}" "${after%% *}" "${before##* }" "${after##* }" "$growth"
status=0
if [ "$errors" -ne 0 ]; then
    echo "load: FAIL: $errors errors" >&2
    status=1
fi
if awk -v g="$growth" -v m="$max_growth_mb" 'BEGIN {exit !(g > m)}'; then
    echo "load: FAIL: the heap (RssAnon) grew by $growth MB (limit $max_growth_mb MB)" >&2
    status=1
fi
exit $status
