#!/bin/sh
# Case benchmarks through the real HTTP API with wrk (loopback; server and wrk share the machine):
#
#  1. intake: POST /api/v1/cases, each request with its own Idempotency-Key, for a bounded time;
#     every case committed durably (synchronous=FULL, group commit). Prints cases/s, p50 and p99
#     against the goal (>= 3,000 cases/s), and checks that every acknowledged case is in the
#     database afterwards.
#  2. listing: GET /api/v1/cases?grid=<community>&state=<state>&since=..&until=..&limit=100 over a
#     database filled with N cases (default 5,000,000, bench_cases_fill) — random communities,
#     states and 30-day windows. Prints requests/s and p99 against the goals (>= 5,000 req/s,
#     p99 < 20 ms).
#
#   bench/cases_bench.sh [--cases N] [--duration S] [--connections N] [--only intake|listing]
#                        [--listing-db FILE]   (a database bench_cases_fill already filled: the
#                                               listing runs on it as is, with a bench account added)
#   CIVGRID_BUILD=build bench/cases_bench.sh
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
build=${CIVGRID_BUILD:-$here/build}
bin=$build/civgrid
fill=$build/bench/bench_cases_fill
n_cases=5000000
duration=20
connections=64
only=""
listing_db=""
while [ $# -gt 0 ]; do
    case "$1" in
    --cases) n_cases=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --listing-db) listing_db=$2; shift 2 ;;
    *) echo "usage: $0 [--cases N] [--duration S] [--connections N] [--only intake|listing]" >&2
       exit 2 ;;
    esac
done
command -v wrk >/dev/null || { echo "cases_bench: wrk is not installed" >&2; exit 77; }
[ -x "$bin" ] && [ -x "$fill" ] || { echo "cases_bench: build first (scripts/build)" >&2; exit 2; }

tmp=$(mktemp -d)
server=""
stop_server() {
    if [ -n "$server" ]; then
        kill -TERM "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
        server=""
    fi
}
trap 'stop_server; [ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT INT TERM

"$bin" demo --out "$tmp/demo" --seed 3 --cases 0 >/dev/null
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$password" >"$tmp/password"
bench_user=bench$$
"$bin" user add "$bench_user" --roles operator --db "$tmp/demo/civgrid.db" \
    --password-file "$tmp/password" >/dev/null
if [ -n "$listing_db" ]; then
    "$bin" user add "$bench_user" --roles operator --db "$listing_db" \
        --password-file "$tmp/password" >/dev/null
fi

# start_server DB [FLAGS...]: serve on a free port; sets $server and $base.
start_server() {
    : >"$tmp/serve.out"
    serve_db=$1
    shift
    "$bin" serve --db "$serve_db" --port 0 --threads 2 --access-log "" "$@" >"$tmp/serve.out" 2>&1 &
    server=$!
    i=0
    until grep -q "serving http://" "$tmp/serve.out"; do
        i=$((i + 1))
        if [ $i -gt 600 ] || ! kill -0 "$server" 2>/dev/null; then
            echo "cases_bench: the server did not start:" >&2
            cat "$tmp/serve.out" >&2
            exit 1
        fi
        sleep 0.1
    done
    base=$(sed -n 's|.*serving \(http://[^/]*\)/.*|\1|p' "$tmp/serve.out")
}

# The server's CPU time so far in clock ticks (utime + stime of all its threads), "" if unknown.
server_cpu() {
    awk '{ print $14 + $15 }' "/proc/$server/stat" 2>/dev/null || true
}

# wrk's summary in milliseconds: "1.23ms" / "456.00us" / "1.20s".
to_ms() {
    awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub("us", "", v); print v / 1000 }
                          else if (v ~ /ms$/) { sub("ms", "", v); print v + 0 }
                          else if (v ~ /s$/) { sub("s", "", v); print v * 1000 } }'
}

# list_every_page: lists each of the listing script's pages once, in order, on one connection
# (a warm-up: on a database not yet in the page cache a 5 s warm-up alone left pages to be read
# from disk in the measured run, and their 100 ms lists were its p99).
list_every_page() {
    python3 - "$base" "$tmp/listing.paths" <<'PY'
import http.client, sys, time, urllib.parse
base, paths_file = sys.argv[1:3]
lines = open(paths_file).read().split("\n")
auth, paths = lines[0], [p for p in lines[1:] if p]
u = urllib.parse.urlparse(base)
conn = http.client.HTTPConnection(u.hostname, u.port)
t0 = time.monotonic()
for p in paths:
    conn.request("GET", p, headers={"Authorization": auth})
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("cases_bench: warm-up: %s answered %d" % (p, r.status))
print("  warm-up: %d pages listed once in %.1f s" % (len(paths), time.monotonic() - t0))
PY
}

# login_and_scripts MODE: logs in and writes the wrk Lua script for MODE.
make_script() {
    python3 - "$base" "$tmp" "$password" "$1" "$bench_user" <<'PY'
import json, random, sys, time, urllib.request
base, tmp, password, mode, user = sys.argv[1:6]
req = urllib.request.Request(base + "/api/v1/auth/login", method="POST",
                             data=json.dumps({"username": user, "password": password,
                                              "client": "token"}).encode(),
                             headers={"Content-Type": "application/json"})
token = json.load(urllib.request.urlopen(req))["token"]
auth = {"Authorization": "Bearer " + token}
def get(path):
    return json.load(urllib.request.urlopen(urllib.request.Request(base + path, headers=auth)))
rng = random.Random(7)
if mode == "intake":
    fc = get("/api/v1/grids?format=geojson&level=grid")
    # Reports at GPS positions spread over each grid's middle (drawn per request by the script),
    # in every category, as a district's reports come in.
    boxes = []
    for f in fc["features"]:
        xs = [p[0] for poly in f["geometry"]["coordinates"] for p in poly[0]]
        ys = [p[1] for poly in f["geometry"]["coordinates"] for p in poly[0]]
        boxes.append((min(xs), min(ys), max(xs), max(ys)))
    cats = [c["code"] for c in get("/api/v1/categories")["categories"] if c.get("parent")]
    with open(tmp + "/intake.lua", "w") as out:
        out.write("local boxes = {\n")
        for x0, y0, x1, y1 in boxes:
            out.write("  {%.7f, %.7f, %.7f, %.7f},\n" % (x0, y0, x1, y1))
        out.write("}\nlocal cats = {%s}\n" % ", ".join('"%s"' % c for c in cats))
        out.write("local token = \"%s\"\n" % token)
        out.write("""
local counter = 0
local thread_no = 0
local threads = {}
function setup(thread)
  thread_no = thread_no + 1
  thread:set("tid", thread_no)
  table.insert(threads, thread)
end
function init(args)
  prefix = string.format("%d-%d-", os.time(), tid)
  math.randomseed(os.time() + tid)
  acked = 0
end
request = function()
  counter = counter + 1
  local b = boxes[math.random(#boxes)]
  local lon = b[1] + (b[3] - b[1]) * (0.2 + 0.6 * math.random())
  local lat = b[2] + (b[4] - b[2]) * (0.2 + 0.6 * math.random())
  local body = string.format('{"category":"%s","source":"worker","description":"基准测试 bench case %s%d","lon":%.7f,"lat":%.7f}',
                             cats[math.random(#cats)], prefix, counter, lon, lat)
  local headers = {["Authorization"] = "Bearer " .. token,
                   ["Content-Type"] = "application/json",
                   ["Idempotency-Key"] = prefix .. counter}
  return wrk.format("POST", "/api/v1/cases", headers, body)
end
response = function(status, headers, body)
  if status == 201 then acked = acked + 1 end
end
done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("acked") end
  io.write(string.format("ACKED %d\\n", total))
  io.write(string.format("P50 %.3f\\n", latency:percentile(50) / 1000))
  io.write(string.format("P99 %.3f\\n", latency:percentile(99) / 1000))
end
""")
else:
    grids = get("/api/v1/grids?level=community&limit=1000")
    codes = [g["code"] for g in grids["grids"]]
    now = int(time.time())
    states = ["dispatched", "in_progress", "verified_closed", "reported", "handled"]
    paths = []
    for _ in range(4000):
        until = now - rng.randrange(0, 330 * 86400)
        paths.append("/api/v1/cases?grid=%s&state=%s&since=%d&until=%d&limit=100"
                     % (rng.choice(codes), rng.choice(states), until - 30 * 86400, until))
    with open(tmp + "/listing.paths", "w") as out:
        out.write("Bearer %s\n" % token)
        out.write("".join(p + "\n" for p in paths))
    with open(tmp + "/listing.lua", "w") as out:
        out.write("local paths = {\n")
        out.write("".join('  "%s",\n' % p for p in paths))
        out.write("}\nlocal i = 0\nlocal headers = {[\"Authorization\"] = \"Bearer %s\"}\n"
                  "request = function()\n  i = i %% #paths + 1\n"
                  "  return wrk.format(nil, paths[i], headers)\nend\n" % token)
    # One request by hand: the answer must hold cases, or the figures measure nothing.
    sample = get("/api/v1/cases?grid=%s&state=dispatched&since=%d&until=%d&limit=100"
                 % (codes[0], now - 60 * 86400, now))
    print("cases_bench: sample listing: %d of %d cases" % (len(sample["cases"]), sample["total"]))
PY
}

fail=0
db=$tmp/demo/civgrid.db

if [ "$only" != listing ]; then
    start_server "$db"
    make_script intake
    # Warm-up, not measured: a fresh database's log file grows at first, and fsyncs that grow a
    # file cost more than the steady state's, which reuses it.
    wrk -t2 -c"$connections" -d5s -s "$tmp/intake.lua" "$base" >/dev/null
    warm=$(sqlite3 "$db" "SELECT count(*) FROM cases")
    echo "cases_bench: intake: wrk -t2 -c$connections -d${duration}s POST /api/v1/cases"
    cpu0=$(server_cpu)
    out=$(wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$tmp/intake.lua" "$base")
    cpu1=$(server_cpu)
    stop_server
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    acked=$(echo "$out" | awk '/^ACKED/ {print $2}')
    p50=$(echo "$out" | awk '/^P50/ {print $2}')
    p99=$(echo "$out" | awk '/^P99/ {print $2}')
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    stored=$(sqlite3 "$db" "SELECT count(*) FROM cases")
    sync=$(sqlite3 "$db" "PRAGMA journal_mode")
    per_s=$(awk -v a="$acked" -v d="$duration" 'BEGIN {printf "%.0f", a / d}')
    verdict=$(awk -v r="$per_s" 'BEGIN {print (r >= 3000) ? "ok" : "BELOW GOAL"}')
    [ "$verdict" = ok ] || fail=1
    printf 'POST /api/v1/cases   %6s cases/s acknowledged (%.2fx of 3k)  p50 %s ms  p99 %s ms  %s%s\n' \
        "$per_s" "$(awk -v r="$per_s" 'BEGIN {print r / 3000}')" "$p50" "$p99" "$verdict" \
        "${non2xx:+  non-2xx: $non2xx}"
    stored=$((stored - warm))
    # The server's own CPU time per case (user + system, all its threads): unlike cases/s, it
    # hardly moves when other work shares the machine.
    if [ -n "$cpu0" ] && [ -n "$cpu1" ] && [ "$stored" -gt 0 ]; then
        awk -v a="$cpu0" -v b="$cpu1" -v n="$stored" -v hz="$(getconf CLK_TCK)" \
            'BEGIN { printf "  server CPU: %.1f s for %d cases, %.0f us per case (%.0f cases per CPU-second)\n",
                     (b - a) / hz, n, (b - a) / hz / n * 1e6, n / ((b - a) / hz) }'
    fi
    if [ "$stored" -lt "$acked" ]; then
        echo "cases_bench: LOST WRITES: $acked acknowledged, $stored stored" >&2
        fail=1
    else
        echo "  every acknowledged case is stored ($acked acknowledged, $stored new rows; journal $sync, synchronous=FULL)"
    fi
fi

if [ "$only" != intake ]; then
    if [ -n "$listing_db" ]; then
        db=$listing_db
        n_cases=$(sqlite3 "$db" "SELECT count(*) FROM cases")
    else
        echo "cases_bench: filling $n_cases cases (bench_cases_fill) ..."
        "$fill" "$db" "$n_cases" 5
    fi
    # listing_run ROWS_MB: serves the database with the case timer off (the filled cases are
    # mostly past their deadlines, and its passes would escalate up to a thousand of them a
    # minute: writes in a read benchmark) and case_rows_mb ROWS_MB, warms up (not measured: the
    # page caches, and the rows the server keeps of pages listed before) by listing every page
    # once, then for 5 s, then measures. Sets $rps and $p99ms.
    listing_run() {
        printf '{"case_timer_seconds": 0, "case_rows_mb": %d}\n' "$1" >"$tmp/listing.json"
        start_server "$db" --config "$tmp/listing.json"
        grep "case index" "$tmp/serve.out" || true
        make_script listing
        list_every_page
        wrk -t2 -c"$connections" -d5s -s "$tmp/listing.lua" "$base" >/dev/null
        cpu0=$(server_cpu)
        out=$(wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$tmp/listing.lua" "$base")
        cpu1=$(server_cpu)
        # One connection alone: the latency of a list without queueing.
        one=$(wrk -t1 -c1 -d5s --latency -s "$tmp/listing.lua" "$base")
        stop_server
        grep "case lists:" "$tmp/serve.out" | sed 's/^.*info /  server: /' || true
        rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
        p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
        p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
        non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
        p99ms=$(to_ms "$p99")
        verdict=$(awk -v r="$rps" -v p="$p99ms" 'BEGIN {print (r >= 5000 && p < 20) ? "ok" : "BELOW GOAL"}')
        printf 'GET /api/v1/cases    %8.0f req/s (%.2fx of 5k)  p50 %s  p99 %s  %s%s\n' "$rps" \
            "$(awk -v r="$rps" 'BEGIN {print r / 5000}')" "$p50" "$p99" "$verdict" \
            "${non2xx:+  non-2xx: $non2xx}"
        # On a shared machine the rate depends on what else runs; the server's own CPU time per
        # request does much less.
        requests=$(echo "$out" | awk '/requests in/ {print $1}')
        if [ -n "$cpu0" ] && [ -n "$cpu1" ] && [ "${requests:-0}" -gt 0 ]; then
            awk -v a="$cpu0" -v b="$cpu1" -v n="$requests" -v hz="$(getconf CLK_TCK)" \
                'BEGIN { printf "  server CPU: %.0f us per request (%.0f requests per CPU-second)\n",
                         (b - a) / hz / n * 1e6, n / ((b - a) / hz) }'
        fi
        echo "  one connection alone: $(echo "$one" | awk '/Requests\/sec/ {print $2}') req/s," \
            "p50 $(echo "$one" | awk '$1 == "50%" {print $2}')," \
            "p99 $(echo "$one" | awk '$1 == "99%" {print $2}')"
    }
    # The server as configured by default (rows of pages listed before kept in memory), then
    # with every row read from SQLite (case_rows_mb 0) for comparison. The 4,000 pages the
    # script cycles through are listed again and again, as operators refresh their queues: the
    # first figure is that steady state, the second what a page never listed before costs.
    echo "cases_bench: listing: wrk -t2 -c$connections -d${duration}s over $n_cases cases, 4000 distinct pages"
    echo "cases_bench: listing, rows kept in memory (case_rows_mb 512, the default):"
    listing_run 512
    [ "$verdict" = ok ] || fail=1
    kept_rps=$rps
    echo "cases_bench: listing, every row read from SQLite (case_rows_mb 0):"
    listing_run 0
    awk -v a="$kept_rps" -v b="$rps" 'BEGIN { if (b > 0) printf "cases_bench: rows kept / rows read: %.2fx the req/s\n", a / b }'
fi
exit $fail
