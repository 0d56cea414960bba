"""GET /api/v1/route and `civgrid route` over a real server and the small demo district: the
answer is a GeoJSON Feature whose line starts and ends at the snapped points, whose length is
the length of its own geometry and whose time agrees with the command line's; bad input (unknown
profile, a point far from any road, a missing or malformed point, a profile whose graph was
never built) gets the one error shape with the field at fault; a graph rebuilt for another
profile is picked up without restarting the server."""
import json
import math
import os
import struct

from cgserver import Server, add_user
from cgtest import TempDir, check, main, run

R = 6371008.8
# The demo creates its own administrator; these tests log in with an account of their own.
USER = ("route-admin", "Route-pass-2026!")


def metres(a, b):
    (x1, y1), (x2, y2) = a, b
    p1, p2 = math.radians(y1), math.radians(y2)
    dp, dl = p2 - p1, math.radians(x2 - x1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R * math.asin(math.sqrt(h))


def demo(tmp):
    """The small demo district with an administrator and a car graph; returns (db, bbox)."""
    out = os.path.join(tmp, "demo")
    run("demo", "--out", out, check=0)
    db = os.path.join(out, "civgrid.db")
    add_user(db, USER[0], USER[1], "admin")
    _, text, _ = run("net", "build", "--db", db, check=0)
    check("car graph:" in text and "bytes/node" in text, text)
    # The graph file's header holds its bounding box (graph_file.c): magic, 8 u32, i64, 4 doubles.
    with open(db + ".car.graph", "rb") as f:
        head = f.read(8 + 32 + 8 + 32)
    x0, y0, x1, y1 = struct.unpack("<4d", head[48:80])
    return db, (x0, y0, x1, y1)


def point(bbox, fx, fy):
    x0, y0, x1, y1 = bbox
    return "%.6f,%.6f" % (y0 + (y1 - y0) * fy, x0 + (x1 - x0) * fx)


def test_route():
    with TempDir() as tmp:
        db, bbox = demo(tmp)
        a, b = point(bbox, 0.1, 0.15), point(bbox, 0.85, 0.9)
        with Server(db, login=USER) as s:
            st, hdr, body = s.get("/api/v1/route?from=%s&to=%s" % (a, b))
            check(st == 200 and hdr["Content-Type"].startswith("application/geo+json"),
                  (st, body[:300]))
            f = json.loads(body)
            check(f["type"] == "Feature" and f["geometry"]["type"] == "LineString", f)
            pts = f["geometry"]["coordinates"]
            props = f["properties"]
            check(props["profile"] == "car" and len(pts) > 10, props)
            # Starts and ends at the road positions nearest the two points.
            for p, q in ((pts[0], a), (pts[-1], b)):
                lat, lon = map(float, q.split(","))
                check(metres(p, (lon, lat)) < 500, (p, q))
            along = sum(metres(pts[i], pts[i + 1]) for i in range(len(pts) - 1))
            check(abs(along - props["metres"]) < 0.01 * along + 1, (along, props["metres"]))
            straight = metres(pts[0], pts[-1])
            check(props["metres"] >= straight * 0.999, (props["metres"], straight))
            # No car profile speed exceeds 90 km/h, and the demo's roads are slower still.
            check(props["seconds"] > props["metres"] / 25.0, props)
            # The command line gives the same route.
            _, out, _ = run("route", "--db", db, "--from", a, "--to", b, "--geojson", check=0)
            cli = json.loads(out)
            check(abs(cli["properties"]["seconds"] - props["seconds"]) < 1e-6, (cli, props))
            # The reverse trip exists too and is not shorter than the straight line.
            st, _, body = s.get("/api/v1/route?from=%s&to=%s&profile=car" % (b, a))
            back = json.loads(body)["properties"]
            check(st == 200 and back["metres"] >= straight * 0.999, back)

            # Bad input: the one error shape, with the field at fault.
            far = "%.6f,%.6f" % (bbox[1] - 0.1, bbox[0])
            for query, field, status in (
                    ("from=%s&to=%s&profile=tank" % (a, b), "profile", 400),
                    ("from=%s&to=%s" % (a, far), "to", 400),
                    ("from=%s&to=%s" % (far, b), "from", 400),
                    ("to=%s" % b, "from", 400),
                    ("from=30.1&to=%s" % b, "from", 400),
                    ("from=91,120&to=%s" % b, "from", 400),
                    ("from=%s&to=%s&speed=9" % (a, b), "speed", 400),
                    ("from=%s&to=%s&profile=foot" % (a, b), "graph", 404)):
                st, _, body = s.get("/api/v1/route?" + query)
                doc = json.loads(body)
                check(st == status and doc["error"]["field"] == field, (query, st, doc))
            # Building the foot graph makes foot routes answer without a restart; walking is
            # slower than driving the same way.
            run("net", "build", "--db", db, "--profile", "foot", check=0)
            st, _, body = s.get("/api/v1/route?from=%s&to=%s&profile=foot" % (a, b))
            foot = json.loads(body)
            check(st == 200 and foot["properties"]["seconds"] > props["seconds"], foot)

        # Anonymous callers are refused.
        with Server(db) as s:
            st, _, _ = s.get("/api/v1/route?from=%s&to=%s" % (a, b))
            check(st == 401, st)


def test_cli_errors():
    with TempDir() as tmp:
        db, bbox = demo(tmp)
        a = point(bbox, 0.5, 0.5)
        st, _, err = run("route", "--db", db, "--from", a, "--to", "0,0")
        check(st == 3 and "road" in err, (st, err))
        st, _, err = run("route", "--db", db, "--from", a, "--to", a, "--profile", "bicycle")
        check(st != 0 and "net build" in err, (st, err))
        st, out, _ = run("route", "--db", db, "--from", a, "--to", a)
        check(st == 0 and "0.0 min" in out, out)
        bad = os.path.join(tmp, "bad.osm.pbf")
        with open(bad, "wb") as f:
            f.write(b"\x00\x00\x00\x0dnot a pbf at all")
        st, _, err = run("net", "build", "--db", db, "--pbf", bad, "--output",
                         os.path.join(tmp, "x.graph"))
        check(st == 3 and "civgrid:" in err, (st, err))
        st, _, err = run("net", "build", "--db", db, "--profile", "hovercraft")
        check(st != 0 and "profile" in err, (st, err))
        # A damaged graph file is refused, not trusted.
        path = db + ".car.graph"
        data = bytearray(open(path, "rb").read())
        data[len(data) // 2] ^= 0xFF
        open(path, "wb").write(bytes(data))
        st, _, err = run("route", "--db", db, "--from", a, "--to", a)
        check(st == 3 and "checksum" in err, (st, err))


if __name__ == "__main__":
    main([test_route, test_cli_errors])
