"""The road-network issue's acceptance on a real extract: on Monaco (© OpenStreetMap
contributors), with a grid hierarchy laid over it, coverage shows which parts of which grids a
patrol cannot reach within 2 minutes from the current police posts, and the planner proposes
posts after which (nearly) every building is reached: coverage from the proposed posts, fed back
as points, reaches exactly the buildings the planner counted. Skipped when ../shared/data is absent."""
import json
import os
import re
import sqlite3
import struct
import sys

from cgtest import SHARED, TempDir, check, main, run

PBF = os.path.join(SHARED, "osm", "monaco.osm.pbf") if SHARED else ""


def rect(a, b, c, d):
    return {"type": "Polygon", "coordinates": [[[a, b], [c, b], [c, d], [a, d], [a, b]]]}


def grids_over(x0, y0, x1, y1):
    """district > 2 streets > 2 communities each > 4 grids each, tiling the box exactly."""
    feats = []

    def add(code, name, geom):
        feats.append({"type": "Feature", "properties": {"code": code, "name": name},
                      "geometry": geom})
    add("990100", "测试区", rect(x0, y0, x1, y1))
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    for si, (sa, sb) in enumerate(((x0, xm), (xm, x1)), 1):
        sc = "990100%03d" % si
        add(sc, "街道%d" % si, rect(sa, y0, sb, y1))
        for ci, (ca, cb) in enumerate(((ym, y1), (y0, ym)), 1):
            cc = sc + "%03d" % ci
            add(cc, "社区%d-%d" % (si, ci), rect(sa, ca, sb, cb))
            xs, ys = [sa, (sa + sb) / 2, sb], [cb, (ca + cb) / 2, ca]
            k = 0
            for r in range(2):
                for c in range(2):
                    k += 1
                    add(cc + "%03d" % k, "网格%d-%d-%d" % (si, ci, k),
                        rect(xs[c], ys[r + 1], xs[c + 1], ys[r]))
    return {"type": "FeatureCollection", "features": feats}


def table(out):
    """{code: (road share or None, building share or None)} from `civgrid cover`."""
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^(\d{15})\s+(\S+)\s+(\S+)", line)
        if m:
            rows[m.group(1)] = tuple(None if v == "-" else float(v) for v in m.group(2, 3))
    return rows


def total_buildings(out):
    return float(re.search(r"within\s+120 s: road \S+, buildings ([\d.]+)%", out).group(1))


def building_counts(out):
    """(buildings reached, buildings) within 120 s from `civgrid cover`."""
    m = re.search(r"within\s+120 s: road \S+, buildings \S+ \((\d+) of (\d+)\)", out)
    return int(m.group(1)), int(m.group(2))


def test_monaco_coverage_and_plan():
    with TempDir() as tmp:
        db = os.path.join(tmp, "m.db")
        run("import", "osm", PBF, "--db", db, check=0)
        run("net", "build", "--db", db, check=0)
        with open(db + ".car.graph", "rb") as f:
            x0, y0, x1, y1 = struct.unpack("<4d", f.read(80)[48:80])
        gj = os.path.join(tmp, "grids.geojson")
        json.dump(grids_over(x0, y0, x1, y1), open(gj, "w"))
        run("import", "grids", gj, "--db", db, check=0)
        code, out, _ = run("grids", "check", "--db", db, "--quiet")
        check(code == 0, "the laid-over grids tile exactly: " + out)

        # The current posts: the extract's police stations.
        con = sqlite3.connect(db)
        police = con.execute("SELECT x, y FROM pois WHERE kind = 'police'").fetchall()
        con.close()
        check(len(police) >= 3, "police stations in the extract: %d" % len(police))
        posts = os.path.join(tmp, "police.geojson")
        json.dump({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Point",
                                                               "coordinates": [x, y]}}
            for x, y in police]}, open(posts, "w"))

        unc = os.path.join(tmp, "uncovered.geojson")
        _, out, _ = run("cover", "--db", db, "--posts", posts, "--budget", "120",
                        "--geojson", unc, check=0)
        before = table(out)
        short = {c for c, (road, _) in before.items() if road is not None and road < 100}
        check(len(short) >= 4, "grids a patrol cannot fully reach in 2 minutes: %s" % short)
        pieces = json.load(open(unc))["features"]
        named = {c for f in pieces for c in f["properties"]["grids"]}
        check(pieces and named <= short and named, "uncovered road names its grids")
        share_before = total_buildings(out)

        new = os.path.join(tmp, "plan.geojson")
        code, out, _ = run("posts", "plan", "--db", db, "--budget", "120", "--fixed", posts,
                           "--geojson", new)
        check(code in (0, 1), "posts plan exit %d: %s" % (code, out))
        m = re.search(r"posts: (\d+) \((\d+) new\); covered weight (\d+) of (\d+) "
                      r"\(coverable (\d+)\)", out)
        check(m, out)
        total, added, covered, weight, coverable = map(int, m.groups())
        check(added > 0 and total == added + len(police), out.splitlines()[1])
        check(covered == coverable, "the plan reaches every reachable building: " + m.group(0))

        _, out, _ = run("cover", "--db", db, "--posts", new, "--budget", "120", check=0)
        share_after = total_buildings(out)
        # The proposed posts, re-fed as points, reach exactly what the planner counted (OSM
        # buildings have no household count: weight 1 each), of the same total.
        check(building_counts(out) == (covered, weight),
              "coverage from the proposed posts %s, the planner's %d of %d"
              % (building_counts(out), covered, weight))
        check(share_after > share_before and share_after >= 95,
              "buildings reached within 2 minutes: %.1f%% -> %.1f%%" % (share_before,
                                                                         share_after))


if __name__ == "__main__":
    if not PBF or not os.path.exists(PBF):
        print("SKIPPED: ../shared/data/osm/monaco.osm.pbf is absent")
        sys.exit(77)
    main([test_monaco_coverage_and_plan])
