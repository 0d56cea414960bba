"""The planning API over a real server on the small demo district (GET /api/v1/isochrone,
/api/v1/coverage, /api/v1/dispatch, POST /api/v1/posts/plan) and `civgrid cover|iso|posts`:
coverage shares never fall as the budget grows and do rise between 1 and 5 minutes; a fully
covered grid's worst point is within the budget; an isochrone grows with its budget; dispatch
ranks units by ETA and routes end at the incident; the planner's set covering reaches every
household it can; bad input (budget 0 or over a day, no posts, a point far from roads, a
missing graph) is a 400/409 or exit status naming the field."""
import json
import math
import os
import struct

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

            st, _, body = s.request("POST", "/api/v1/posts/plan", {"budget": 300})
            plan = json.loads(body)
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


def test_no_graph():
    with TempDir() as tmp:
        db, _ = demo(tmp, graph=False)
        with Server(db, login=USER) as s:
            st, body, _ = s.json("/api/v1/isochrone?lat=30.2&lon=120.1&budget=60")
            check(st == 409 and "net build" in body["error"]["message"], body)
        st, _, err = run("iso", "--db", db, "--at", "30.2,120.1", "--budget", "60")
        check(st == 3 and "run civgrid net build first" in err, err)


if __name__ == "__main__":
    main([test_coverage_and_isochrone, test_dispatch_and_posts, test_no_graph])
