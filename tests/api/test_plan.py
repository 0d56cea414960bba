"""The planning API over a real server on the small demo district (GET /api/v1/isochrone,
/api/v1/coverage, /api/v1/dispatch, POST /api/v1/posts/plan) and `civgrid cover|iso|posts`:
coverage shares never fall as the budget grows and do rise between 1 and 5 minutes; a fully
covered grid's worst point is within the budget; an isochrone grows with its budget; dispatch
ranks units by ETA and routes end at the incident; the planner's set covering reaches every
household it can; bad input (budget 0 or over a day, no posts, a point far from roads, a
missing graph) is a 400/409 or exit status naming the field. The server caches what coverage
and plans are computed on: a repeated request is served from the cache with the same answer, and
an import of places or a rebuilt graph makes the next request build afresh; each profile has its
own graph."""
import json
import math
import os
import struct
import time

from cgserver import Server, add_user
from cgtest import TempDir, check, main, run

USER = ("plan-admin", "Plan-pass-2026!")
R = 6371008.8


def metres(a, b):
    (x1, y1), (x2, y2) = a, b
    p1, p2 = math.radians(y1), math.radians(y2)
    dp, dl = p2 - p1, math.radians(x2 - x1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R * math.asin(math.sqrt(h))


def demo(tmp, graph=True):
    out = os.path.join(tmp, "demo")
    run("demo", "--out", out, check=0)
    db = os.path.join(out, "civgrid.db")
    add_user(db, USER[0], USER[1], "admin")
    if not graph:
        return db, None
    run("net", "build", "--db", db, check=0)
    with open(db + ".car.graph", "rb") as f:
        head = f.read(80)
    return db, struct.unpack("<4d", head[48:80])


def pt(bbox, fx, fy):
    x0, y0, x1, y1 = bbox
    return "%.6f,%.6f" % (y0 + (y1 - y0) * fy, x0 + (x1 - x0) * fx)


def total_share(doc, k):
    road = sum(g["road_m"] for g in doc["grids"])
    return sum(g["road_m"] * g["budgets"][k]["road_share"] for g in doc["grids"]) / road


def test_coverage_and_isochrone():
    with TempDir() as tmp:
        db, bbox = demo(tmp)
        posts = ";".join(pt(bbox, fx, fy) for fx, fy in ((0.25, 0.25), (0.75, 0.7)))
        with Server(db, login=USER) as s:
            st, doc, hdr = s.json("/api/v1/coverage?posts=%s&budget=120&circles=true" % posts)
            check(st == 200 and hdr["Content-Type"].startswith("application/geo+json"), doc)
            check(len(doc["grids"]) > 50, len(doc["grids"]))
            budgets = [b["budget_s"] for b in doc["grids"][0]["budgets"]]
            check(budgets == [120, 60, 180, 300, 600], budgets)
            shares = {b: total_share(doc, k) for k, b in enumerate(budgets)}
            check(shares[60] <= shares[120] <= shares[180] <= shares[300] <= shares[600], shares)
            check(shares[60] < shares[300], shares)
            # Per grid too; and a grid whose road is all reached within a budget has its worst
            # point within that budget.
            full = 0
            for g in doc["grids"]:
                by = {b["budget_s"]: b for b in g["budgets"]}
                check(by[60]["household_share"] <= by[600]["household_share"], g)
                if g["road_m"] > 0 and by[120]["road_share"] >= 0.99999:
                    full += 1
                    check(g["worst"]["seconds"] is not None and g["worst"]["seconds"] <= 120.05, g)
            check(full >= 1, "some grid is fully covered within 2 minutes")
            # The uncovered road is what the 120 s shares leave out.
            unc = sum(f["properties"]["metres"] for f in doc["features"])
            road = sum(g["road_m"] for g in doc["grids"])
            check(unc > 0 and abs(unc - road * (1 - shares[120])) < 0.02 * road + 1, (unc, road))
            # Each uncovered piece names the grids it lies in (none for road outside every grid,
            # such as the district's outer edge), and those grids are short of 100%.
            short = {g["code"] for g in doc["grids"]
                     if g["road_m"] > 0 and g["budgets"][0]["road_share"] < 1}
            named = [f for f in doc["features"] if f["properties"]["grids"]]
            check(len(named) > len(doc["features"]) / 2, "most uncovered road lies in grids")
            for f in named:
                check(set(f["properties"]["grids"]) <= short, f["properties"])
            # More posts never cover less.
            more = posts + ";" + pt(bbox, 0.5, 0.5)
            st, doc2, _ = s.json("/api/v1/coverage?posts=%s&budget=120" % more)
            check(st == 200 and total_share(doc2, 0) >= shares[120] - 1e-9, doc2.get("error"))

            at = pt(bbox, 0.5, 0.5).split(",")
            sizes = []
            for budget in (60, 180):
                st, iso, _ = s.json("/api/v1/isochrone?lat=%s&lon=%s&budget=%d" % (at[0], at[1],
                                                                                     budget))
                check(st == 200, iso)
                kinds = {f["properties"]["kind"]: f for f in iso["features"]}
                check(kinds["network"]["geometry"]["type"] == "MultiLineString", kinds.keys())
                check(kinds["area"]["properties"]["area_m2"] > 0, kinds["area"]["properties"])
                sizes.append(kinds["network"]["properties"]["metres"])
            check(0 < sizes[0] < sizes[1], sizes)

            # Bad input names the field.
            for query, field in (("posts=%s&budget=0" % posts, "budget"),
                                 ("posts=%s&budget=86401" % posts, "budget"),
                                 ("posts=", "posts"), ("budget=120", "posts"),
                                 ("posts=0,0", "posts")):
                st, body, _ = s.json("/api/v1/coverage?" + query)
                check(st == 400 and body["error"]["field"] == field, (query, st, body))
            st, body, _ = s.json("/api/v1/isochrone?lat=0&lon=0&budget=60")
            check(st == 400 and body["error"]["field"] == "lat", body)

        # The command line agrees: more budget, more coverage; a missing posts file is bad input.
        with open(os.path.join(tmp, "posts.geojson"), "w") as f:
            json.dump({"type": "FeatureCollection", "features": [
                {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [
                    float(p.split(",")[1]), float(p.split(",")[0])]}} for p in posts.split(";")]}, f)
        _, out, _ = run("cover", "--db", db, "--posts", os.path.join(tmp, "posts.geojson"),
                        "--circles", check=0)
        lines = [l for l in out.splitlines() if l.startswith("all grids within")]
        road = {float(l.split()[3]): float(l.split("road ")[1].split("%")[0]) for l in lines}
        check(road[60] <= road[120] <= road[300] and road[60] < road[300], road)
        check(abs(road[120] - 100 * shares[120]) < 0.2, (road, shares))
        st, _, err = run("cover", "--db", db, "--posts", os.path.join(tmp, "nope.geojson"))
        check(st == 3, err)


def test_dispatch_and_posts():
    with TempDir() as tmp:
        db, bbox = demo(tmp)
        inc = pt(bbox, 0.5, 0.5).split(",")
        units = [pt(bbox, 0.9, 0.9), pt(bbox, 0.52, 0.5), pt(bbox, 0.3, 0.6)]
        with Server(db, login=USER) as s:
            st, d, _ = s.json("/api/v1/dispatch?lat=%s&lon=%s&units=%s&k=2" % (
                inc[0], inc[1], ";".join(units)))
            check(st == 200 and len(d["features"]) == 2, d)
            etas = [f["properties"]["eta_s"] for f in d["features"]]
            check(etas[0] <= etas[1], etas)
            check(d["features"][0]["properties"]["unit"] == 1, d["features"][0]["properties"])
            for f in d["features"]:
                line = f["geometry"]["coordinates"]
                end = (float(inc[1]), float(inc[0]))
                check(metres(line[-1], end) < 500, (line[-1], end))
                length = sum(metres(a, b) for a, b in zip(line, line[1:]))
                check(abs(length - f["properties"]["metres"]) < 1 + 0.01 * length, f["properties"])
            st, body, _ = s.json("/api/v1/dispatch?lat=%s&lon=%s&units=0,0" % (inc[0], inc[1]))
            check(st == 400 and body["error"]["field"] == "units", body)

            st, hdr, body = s.request("POST", "/api/v1/posts/plan", {"budget": 300})
            plan = json.loads(body)
            check(hdr.get_all("X-Plan-Cache") == ["miss"], hdr.get_all("X-Plan-Cache"))
            check(st == 200, plan)
            p = plan["plan"]
            check(p["uncoverable"] == 0 and p["covered_weight"] == p["total_weight"] > 0, p)
            check(len(plan["features"]) == p["posts"] >= 1, p)
            # One post fewer than that cannot reach every household (the best one covers less).
            if p["posts"] > 1:
                st, _, body = s.request("POST", "/api/v1/posts/plan",
                                        {"budget": 300, "p": p["posts"] - 1})
                q = json.loads(body)["plan"]
                check(st == 200 and q["covered_weight"] <= p["total_weight"], q)
            fixed = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
                     "geometry": {"type": "Point", "coordinates": [float(inc[1]),
                                                                   float(inc[0])]}}]}
            st, _, body = s.request("POST", "/api/v1/posts/plan",
                                    {"budget": 120, "p": 1, "fixed": fixed})
            q = json.loads(body)
            check(st == 200 and q["plan"]["fixed"] == 1 and len(q["features"]) == 2, q)
            check(sum(f["properties"]["fixed"] for f in q["features"]) == 1, q["features"])
            for bad, field in (({"budget": 0}, "budget"), ({"budget": 86401}, "budget"),
                               ({"p": 0}, "p"), ({"fixed": {"type": "FeatureCollection",
                                                            "features": []}}, "fixed")):
                st, _, body = s.request("POST", "/api/v1/posts/plan", bad)
                check(st == 400 and json.loads(body)["error"]["field"] == field, (bad, body))

            # The solver's time limit: bounded, named when wrong, and obeyed. The default (10 s)
            # search of the best p posts runs to its limit on the demo; half a second stops it
            # at half a second with its best plan so far.
            for bad in (0, 0.49, 60.5, -1, "3", True, None):
                st, _, body = s.request("POST", "/api/v1/posts/plan",
                                        {"budget": 120, "p": 2, "time_limit_s": bad})
                e = json.loads(body)["error"]
                check(st == 400 and e["field"] == "time_limit_s" and "0.5" in e["message"] and
                      "60" in e["message"], (bad, st, body))
            for limit in (0.5, 2):
                st, _, body = s.request("POST", "/api/v1/posts/plan",
                                        {"budget": 120, "p": 2, "time_limit_s": limit})
                q = json.loads(body)
                check(st == 200 and len(q["features"]) == 2, q)
                solve = q["plan"]["solve_s"]
                # (it checks the clock between steps: a little over is fine, 10 s is not)
                check(solve <= limit + 1.5, "time_limit_s %s: solve_s %s" % (limit, solve))
                check(q["plan"]["timed_out"] or solve < limit, q["plan"])


def test_no_graph():
    with TempDir() as tmp:
        db, _ = demo(tmp, graph=False)
        with Server(db, login=USER) as s:
            st, body, _ = s.json("/api/v1/isochrone?lat=30.2&lon=120.1&budget=60")
            check(st == 409 and "net build" in body["error"]["message"], body)
        st, _, err = run("iso", "--db", db, "--at", "30.2,120.1", "--budget", "60")
        check(st == 3 and "run civgrid net build first" in err, err)


def one_building_osm(path, lon, lat):
    """A 12-household residential block of 20 m x 20 m at (lon, lat), as an OSM file."""
    d = 0.0001
    ring = [(lon - d, lat - d), (lon + d, lat - d), (lon + d, lat + d), (lon - d, lat + d)]
    nodes = "".join('<node id="%d" version="1" lat="%.7f" lon="%.7f"/>' % (8800000001 + i, y, x)
                    for i, (x, y) in enumerate(ring))
    refs = "".join('<nd ref="%d"/>' % (8800000001 + i) for i in (0, 1, 2, 3, 0))
    with open(path, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">%s<way id="8810000001" '
                'version="1">%s<tag k="building" v="apartments"/><tag k="building:flats" v="12"/>'
                '</way></osm>\n' % (nodes, refs))


def test_cache_and_profiles():
    with TempDir() as tmp:
        db, bbox = demo(tmp)
        posts = ";".join(pt(bbox, fx, fy) for fx, fy in ((0.3, 0.3), (0.7, 0.6)))
        path = "/api/v1/coverage?posts=%s&budget=120" % posts
        with Server(db, login=USER) as s:
            st, h1, b1 = s.get(path)
            check(st == 200 and h1["X-Plan-Cache"] == "miss", (st, dict(h1)))
            st, h2, b2 = s.get(path)
            check(st == 200 and h2["X-Plan-Cache"] == "hit" and b2 == b1,
                  "the cached context answers the same")
            # another level is another context
            st, h3, b3 = s.get(path + "&level=community")
            doc3 = json.loads(b3)
            check(st == 200 and h3["X-Plan-Cache"] == "miss" and
                  {g["level"] for g in doc3["grids"]} == {"community"}, doc3.get("error"))
            households = sum(g["households"] for g in json.loads(b1)["grids"])

            # places imported while the server runs: built afresh, and the new block counts
            at = pt(bbox, 0.3, 0.3).split(",")
            osm = os.path.join(tmp, "block.osm")
            one_building_osm(osm, float(at[1]) + 0.0003, float(at[0]))
            run("import", "osm", "--db", db, osm, check=0)
            st, h4, b4 = s.get(path)
            doc4 = json.loads(b4)
            check(st == 200 and h4["X-Plan-Cache"] == "miss", (st, dict(h4), b4[:300]))
            check(sum(g["households"] for g in doc4["grids"]) == households + 12,
                  (sum(g["households"] for g in doc4["grids"]), households))
            check(s.get(path)[1]["X-Plan-Cache"] == "hit", "cached again")

            # a grid redrawn (imported again, half its size) while the server runs: once the
            # server reads the new version, coverage is built afresh and measures the new shape
            g = doc4["grids"][0]
            st, full, _ = s.json("/api/v1/grids/" + g["code"])
            check(st == 200, full)
            ring = full["geometry"]["coordinates"][0][0]
            cx = sum(p[0] for p in ring[:-1]) / (len(ring) - 1)
            cy = sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
            small = [[cx + (x - cx) * 0.5, cy + (y - cy) * 0.5] for x, y in ring]
            with open(os.path.join(tmp, "redraw.geojson"), "w") as f:
                json.dump({"type": "FeatureCollection", "features": [{"type": "Feature",
                           "properties": {"code": g["code"], "name": full["name_zh"],
                                          "name_en": full["name_en"]},
                           "geometry": {"type": "Polygon", "coordinates": [small]}}]}, f)
            run("import", "grids", os.path.join(tmp, "redraw.geojson"), "--db", db, check=0)
            # the server picks up grid writes within a second: wait for the new version to show
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                st, now, _ = s.json("/api/v1/grids/" + g["code"])
                if now["area_m2"] < 0.5 * full["area_m2"]:
                    break
                s.json("/api/v1/grids/" + g["code"] + "/history")  # a round trip, not a sleep
            check(now["area_m2"] < 0.5 * full["area_m2"], "the new version never showed")
            st, h6, b6 = s.get(path)
            g6 = [x for x in json.loads(b6)["grids"] if x["code"] == g["code"]]
            check(st == 200 and h6["X-Plan-Cache"] == "miss", (st, dict(h6)))
            check(g6 and g6[0]["road_m"] < g["road_m"], (g6, g["road_m"]))
            doc4 = json.loads(b6)

            # a graph rebuilt beside the database: the next request maps it and builds afresh
            run("net", "build", "--db", db, check=0)
            st, h5, b5 = s.get(path)
            check(st == 200 and h5["X-Plan-Cache"] == "miss", (st, dict(h5)))
            check(json.loads(b5)["grids"] == doc4["grids"], "the same roads, the same coverage")

            # many requests at once share the cached contexts and answer as one request alone
            # does: different posts and budgets, coverage and isochrones mixed, 6 threads
            queries = ["/api/v1/coverage?posts=%s&budget=%d" % (
                ";".join(pt(bbox, fx, fy) for fx, fy in ((0.2 + 0.1 * i, 0.3), (0.6, 0.2 + 0.1 * i))),
                b) for i in range(4) for b in (60, 180)]
            queries += ["/api/v1/isochrone?lat=%s&lon=%s&budget=%d&buffer=0" % (
                *pt(bbox, 0.3 + 0.1 * i, 0.5).split(","), 90) for i in range(4)]
            alone = {q: s.get(q)[2] for q in queries}
            import concurrent.futures
            with concurrent.futures.ThreadPoolExecutor(6) as pool:
                got = list(pool.map(lambda q: (q, s.get(q)), queries * 3))
            for q, (st, hdr, body) in got:
                check(st == 200 and body == alone[q], "concurrent %s: %d" % (q, st))

            # other profiles need their own graph
            st, body, _ = s.json(path + "&profile=foot")
            check(st == 409 and "--profile foot" in body["error"]["message"], body)
            st, body, _ = s.json(path + "&profile=boat")
            check(st == 400 and body["error"]["field"] == "profile", body)
            run("net", "build", "--db", db, "--profile", "foot", check=0)
            st, foot, _ = s.json(path + "&profile=foot")
            check(st == 200 and foot["profile"] == "foot", foot.get("error"))
            car = json.loads(b5)
            check(total_share(foot, 0) < total_share(car, 0),
                  "on foot less road is reached in 2 minutes: %.3f vs %.3f" % (
                      total_share(foot, 0), total_share(car, 0)))
            # the stored police stations are posts the console starts from
            st, pois, _ = s.json("/api/v1/pois?kind=police")
            check(st == 200 and pois["count"] == len(pois["features"]) >= 1 and
                  not pois["truncated"], pois)
            check(all(f["properties"]["kind"] == "police" and f["properties"]["name_zh"]
                      for f in pois["features"]), pois["features"][0])
            st, one, _ = s.json("/api/v1/pois?kind=police&limit=1")
            check(st == 200 and one["count"] == 1 and one["truncated"] == (pois["count"] > 1), one)
            for q, field in (("kind=Police", "kind"), ("", "kind"), ("kind=police&limit=0",
                                                                   "limit")):
                st, body, _ = s.json("/api/v1/pois?" + q)
                check(st == 400 and body["error"]["field"] == field, (q, body))
            at = pt(bbox, 0.5, 0.5).split(",")
            st, iso, hdr = s.json("/api/v1/isochrone?lat=%s&lon=%s&budget=60&buffer=0&profile=foot"
                                  % (at[0], at[1]))
            check(st == 200 and iso["features"][0]["properties"]["metres"] > 0, iso)


if __name__ == "__main__":
    main([test_coverage_and_isochrone, test_dispatch_and_posts, test_no_graph,
          test_cache_and_profiles])
