"""API v1 against the real server: every endpoint's status and body shape, GeoJSON readable by
ogrinfo, locate paths (WGS84 and GCJ-02), the one error shape, the OpenAPI document against the
route table, reload after an import, and the access log."""
import json
import math
import os
import re
import shutil
import subprocess
import time

from cgserver import ADMIN, Server, error_of, make_db
from cgtest import DATA, TempDir, check, main, run

FIXTURE = json.load(open(os.path.join(DATA, "api_grids.geojson"), encoding="utf-8"))
BY_CODE = {f["properties"]["code"]: f for f in FIXTURE["features"]}


def parent_of(code):
    """The parent code in the fixture (codes are hierarchical prefixes)."""
    for n in (15, 12, 9, 6):
        if len(code) > n and code[:n] in BY_CODE:
            return code[:n]
    return None


def chain(code):
    out = []
    while code:
        out.insert(0, code)
        code = parent_of(code)
    return out


def ring(code):
    return BY_CODE[code]["geometry"]["coordinates"][0]


def centre(code):
    r = ring(code)
    xs, ys = [p[0] for p in r], [p[1] for p in r]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def leaves():
    return [c for c in BY_CODE if not any(o != c and o.startswith(c) for o in BY_CODE)]


# The published GCJ-02 algorithm, written independently of civgrid's C version.
A, EE = 6378245.0, 0.00669342162296594323


def _tlat(x, y):
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _tlon(x, y):
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def gcj02(lon, lat):
    dlat, dlon = _tlat(lon - 105.0, lat - 35.0), _tlon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - EE * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((A * (1 - EE)) / (magic * sq) * math.pi)
    dlon = (dlon * 180.0) / (A / sq * math.cos(rad) * math.pi)
    return lon + dlon, lat + dlat


def test_health_and_lists():
    with TempDir() as tmp, Server(make_db(tmp), login=ADMIN) as s:
        st, h, _ = s.json("/healthz")
        check(st == 200 and h == {"status": "ok", "schema_version": h["schema_version"],
                                  "grids": len(BY_CODE)} and h["schema_version"] >= 1, h)
        st, body, hdr = s.json("/api/v1/grids")
        check(st == 200 and hdr["Content-Type"] == "application/json", st)
        codes = [g["code"] for g in body["grids"]]
        check(codes == sorted(BY_CODE) and body["total"] == len(BY_CODE), codes)
        check(body["limit"] == 100 and body["offset"] == 0, body)
        g = body["grids"][codes.index("330106001001002")]
        p = BY_CODE["330106001001002"]["properties"]
        check(g["name_zh"] == p["name"] and g["name_en"] == p["name_en"] and
              g["grade"] == p["grade"] and g["households"] == p["households"] and
              g["level"] == "grid" and g["parent"] == "330106001001" and "geometry" not in g, g)
        _, page, _ = s.json("/api/v1/grids?limit=2&offset=1")
        check([x["code"] for x in page["grids"]] == sorted(BY_CODE)[1:3], page)
        _, lv, _ = s.json("/api/v1/grids?level=community")
        check(sorted(x["code"] for x in lv["grids"]) ==
              sorted(c for c in BY_CODE if len(c) == 12), lv)
        _, kids, _ = s.json("/api/v1/grids?parent=330106")
        check([x["code"] for x in kids["grids"]] == ["330106001", "330106002"], kids)
        # a box inside the western street: the eastern street and its children are left out
        x, y = centre("330106001001001")
        _, box, _ = s.json("/api/v1/grids?bbox=%f,%f,%f,%f" % (x - 1e-4, y - 1e-4, x + 1e-4,
                                                               y + 1e-4))
        check(sorted(g["code"] for g in box["grids"]) == chain("330106001001001"), box)


def test_tree_view():
    with TempDir() as tmp, Server(make_db(tmp), login=ADMIN) as s:
        st, tree, _ = s.json("/api/v1/grids?view=tree")
        check(st == 200 and len(tree["grids"]) == 1, tree)

        def walk(node, parent):
            check(node["parent"] == parent, "%s under %s" % (node["code"], parent))
            kids = [k["code"] for k in node["children"]]
            want = sorted(c for c in BY_CODE if parent_of(c) == node["code"])
            check(kids == want, "children of %s: %s" % (node["code"], kids))
            return 1 + sum(walk(k, node["code"]) for k in node["children"])

        check(walk(tree["grids"][0], None) == len(BY_CODE), "every grid in the tree")
        _, sub, _ = s.json("/api/v1/grids?view=tree&parent=330106002")
        check(len(sub["grids"]) == 1 and sub["grids"][0]["code"] == "330106002" and
              walk(sub["grids"][0], "330106") == 7, sub)


def test_geojson_and_ogrinfo():
    with TempDir() as tmp, Server(make_db(tmp), login=ADMIN) as s:
        st, hdr, body = s.get("/api/v1/grids?format=geojson")
        fc = json.loads(body)
        check(st == 200 and hdr["Content-Type"] == "application/geo+json", st)
        check(fc["type"] == "FeatureCollection" and len(fc["features"]) == len(BY_CODE), fc.keys())
        for f in fc["features"]:
            check(f["type"] == "Feature" and f["id"] == f["properties"]["code"], f["id"])
            got = f["geometry"]["coordinates"][0][0]
            want = ring(f["id"])
            check(f["geometry"]["type"] == "MultiPolygon" and len(got) == len(want) and
                  all(abs(a[0] - b[0]) < 1e-9 and abs(a[1] - b[1]) < 1e-9
                      for a, b in zip(got, want)), "geometry of %s" % f["id"])
        _, _, lim = s.get("/api/v1/grids?format=geojson&limit=3")
        lim = json.loads(lim)
        check(len(lim["features"]) == 3 and lim["numberMatched"] == len(BY_CODE), lim.keys())
        if not shutil.which("ogrinfo"):
            print("skip: ogrinfo not installed")
            return
        path = os.path.join(tmp, "grids.geojson")
        open(path, "wb").write(body)
        out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", path], capture_output=True,
                             text=True, timeout=60)
        check(out.returncode == 0 and "Feature Count: %d" % len(BY_CODE) in out.stdout,
              out.stdout + out.stderr)
        _, _, check_gj = s.get("/api/v1/grids/check?format=geojson")
        path = os.path.join(tmp, "check.geojson")
        open(path, "wb").write(check_gj)
        check(json.loads(check_gj)["type"] == "FeatureCollection", check_gj[:200])


def test_grid_and_history():
    with TempDir() as tmp:
        db = make_db(tmp)
        with Server(db, login=ADMIN) as s:
            st, g, _ = s.json("/api/v1/grids/330106002002001")
            check(st == 200 and g["code"] == "330106002002001", g)
            got = g["geometry"]["coordinates"][0][0]
            check(all(abs(a[0] - b[0]) < 1e-9 and abs(a[1] - b[1]) < 1e-9
                      for a, b in zip(got, ring("330106002002001"))), got)
            _, gg, _ = s.json("/api/v1/grids/330106002002001?crs=gcj02")
            for a, b in zip(gg["geometry"]["coordinates"][0][0], ring("330106002002001")):
                want = gcj02(*b)
                check(abs(a[0] - want[0]) < 1e-6 and abs(a[1] - want[1]) < 1e-6 and
                      abs(a[0] - b[0]) > 1e-3, "gcj02 vertex %s vs %s" % (a, want))
            st, h, _ = s.json("/api/v1/grids/330106002002001/history")
            check(st == 200 and h["count"] == 1 and len(h["versions"]) == 1 and
                  h["versions"][0]["valid_to"] is None, h)
            st, body, _ = s.json("/api/v1/grids/330106009")
            check(st == 404 and error_of(body) == ("not_found", "code"), body)
            st, body, _ = s.json("/api/v1/grids/330106009/history")
            check(st == 404 and error_of(body) == ("not_found", "code"), body)

            # Redraw one grid with the CLI while the server runs: the server picks it up (it
            # looks at the store's grid generation once a second) and history keeps both.
            fixture = json.loads(json.dumps(FIXTURE))
            for f in fixture["features"]:
                if f["properties"]["code"] == "330106002002001":
                    f["properties"]["name_en"] = "Renamed Grid"
            path = os.path.join(tmp, "renamed.geojson")
            json.dump(fixture, open(path, "w", encoding="utf-8"), ensure_ascii=False)
            run("import", "grids", path, "--db", db, check=0)
            deadline = time.monotonic() + 15
            name = None
            while time.monotonic() < deadline and name != "Renamed Grid":
                name = s.json("/api/v1/grids/330106002002001")[1]["name_en"]
            check(name == "Renamed Grid", "reload after import: %s" % name)
            _, h, _ = s.json("/api/v1/grids/330106002002001/history")
            check(h["count"] == 2 and h["versions"][0]["valid_to"] is not None and
                  h["versions"][1]["name_en"] == "Renamed Grid", h)


def test_locate():
    with TempDir() as tmp, Server(make_db(tmp), login=ADMIN) as s:
        for leaf in leaves():
            lon, lat = centre(leaf)
            st, r, _ = s.json("/api/v1/locate?lat=%.7f&lon=%.7f" % (lat, lon))
            check(st == 200 and [p["code"] for p in r["path"]] == chain(leaf), (leaf, r))
            check(r["grid"]["code"] == leaf and
                  r["path"][-1]["name_zh"] == BY_CODE[leaf]["properties"]["name"] and
                  r["path"][0]["level"] == "district", r)
            # The same place as a Chinese map service gives it (GCJ-02) finds the same grid.
            glon, glat = gcj02(lon, lat)
            check(abs(glon - lon) > 1e-3, "Hangzhou is shifted by GCJ-02")
            st, g, _ = s.json("/api/v1/locate?lat=%.8f&lon=%.8f&crs=gcj02" % (glat, glon))
            check(st == 200 and g["grid"]["code"] == leaf, (leaf, g))
            check(abs(g["point"]["wgs84"]["lon"] - lon) < 1e-6 and
                  abs(g["point"]["wgs84"]["lat"] - lat) < 1e-6 and g["point"]["crs"] == "gcj02",
                  g["point"])
        st, r, _ = s.json("/api/v1/locate?lat=10&lon=10")
        check(st == 200 and r["path"] == [] and r["grid"] is None, r)


def test_check_endpoint():
    with TempDir() as tmp, Server(make_db(tmp), login=ADMIN) as s:
        st, r, _ = s.json("/api/v1/grids/check")
        check(st == 200 and r == {"findings": [], "count": 0}, r)
    with TempDir() as tmp, Server(make_db(tmp, "grids_planted.geojson"), login=ADMIN) as s:
        st, r, _ = s.json("/api/v1/grids/check")
        kinds = sorted(f["kind"] for f in r["findings"])
        check(st == 200 and r["count"] == len(r["findings"]) and "gap" in kinds and
              "overlap" in kinds, r)
        for f in r["findings"]:
            check(f["area_m2"] > 0 and f["code"] and -90 <= f["point"]["lat"] <= 90, f)
        _, fc, _ = s.json("/api/v1/grids/check?format=geojson")
        check(len(fc["features"]) == r["count"], fc)


def test_errors():
    with TempDir() as tmp, Server(make_db(tmp), login=ADMIN) as s:
        cases = [
            ("/api/v1/locate?lat=abc&lon=120", 400, "invalid", "lat"),
            ("/api/v1/locate?lat=95&lon=120", 400, "invalid", "lat"),
            ("/api/v1/locate?lat=nan&lon=120", 400, "invalid", "lat"),
            ("/api/v1/locate?lat=30", 400, "invalid", "lon"),
            ("/api/v1/locate?lat=30&lon=120&crs=bd09", 400, "invalid", "crs"),
            ("/api/v1/locate?lat=30&lat=31&lon=120", 400, "invalid", "lat"),
            ("/api/v1/locate?lat=3%zz&lon=120", 400, "invalid", "lat"),
            ("/api/v1/locate?lat=30&lon=120&x=1", 400, "invalid", "x"),
            ("/api/v1/grids?limit=0", 400, "invalid", "limit"),
            ("/api/v1/grids?limit=20000", 400, "invalid", "limit"),
            ("/api/v1/grids?offset=-1", 400, "invalid", "offset"),
            ("/api/v1/grids?level=planet", 400, "invalid", "level"),
            ("/api/v1/grids?bbox=1,2,3", 400, "invalid", "bbox"),
            ("/api/v1/grids?bbox=5,2,3,4", 400, "invalid", "bbox"),
            ("/api/v1/grids?view=graph", 400, "invalid", "view"),
            ("/api/v1/grids?view=tree&format=geojson", 400, "invalid", "view"),
            ("/api/v1/grids/check?format=xml", 400, "invalid", "format"),
            ("/api/v1/nothing", 404, "not_found", "path"),
            ("/api/v1/grids/330106/history/x", 404, "not_found", "path"),
        ]
        for path, status, code, field in cases:
            st, body, hdr = s.json(path)
            check(st == status and error_of(body) == (code, field) and
                  hdr["Content-Type"] == "application/json", (path, st, body))
        for method in ("POST", "DELETE", "PUT"):
            st, body, hdr = s.json("/api/v1/grids/330106", method)
            check(st == 405 and error_of(body)[0] == "method_not_allowed" and
                  hdr["Allow"] == "GET, HEAD", (method, st, body, dict(hdr)))
        st, hdr, body = s.get("/api/v1/grids/330106", "HEAD")
        check(st == 200 and body == b"" and int(hdr["Content-Length"]) > 0, (st, dict(hdr)))


# The smallest JPEG header the photo check recognises, and a little data after it.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + \
    b"\x00" * 64 + b"\xff\xd9"


def test_openapi_matches_routes():
    _, out, _ = run("serve", "--routes", check=0)
    routes = set(tuple(line.split()) for line in out.strip().splitlines())
    check(len(routes) >= 7, routes)
    with TempDir() as tmp, Server(make_db(tmp), login=ADMIN) as s:
        st, doc, _ = s.json("/api/v1/openapi.json")
        check(st == 200 and doc["openapi"].startswith("3."), doc.get("openapi"))
        documented = set((m.upper(), p) for p, ops in doc["paths"].items() for m in ops)
        check(documented == routes, "documented but not routed: %s; routed but not documented: "
              "%s" % (documented - routes, routes - documented))
        # one case with a contact and a photo, so every case route has something to show
        st, _, body = s.request("POST", "/api/v1/cases", {
            "category": "0101", "description": "garbage by the gate", "lon": 120.105,
            "lat": 30.23, "contact": "13800000000", "source": "hotline"})
        check(st == 201, "case for the GET routes: %d %s" % (st, body[:300]))
        case_id = json.loads(body)["case"]["id"]
        st, _, body = s.request("POST", "/api/v1/cases/%d/photos" % case_id, JPEG,
                                headers={"Content-Type": "image/jpeg"})
        check(st == 201, "photo for the GET routes: %d %s" % (st, body[:300]))
        sha = json.loads(body)["sha256"]
        # a grid import job (a dry run), so GET /api/v1/grids/imports/{id} has job 1 to show
        with open(os.path.join(DATA, "api_grids.geojson"), "rb") as f:
            st, _, body = s.request("POST", "/api/v1/grids/imports?dry_run=true", f.read(),
                                    headers={"Content-Type": "application/geo+json"})
        check(st == 202 and json.loads(body)["id"] == 1, "import job: %d %s" % (st, body[:300]))
        for (method, path), ops in ((k, doc["paths"][k[1]]) for k in routes):
            op = ops[method.lower()]
            # Open311 answers its errors as the spec's list, everything else as the one object
            open311 = path.startswith("/open311/")
            error_schema = "Open311Errors" if open311 else "Error"
            for status, resp in op["responses"].items():
                if status.startswith(("4", "5")):
                    schema = resp["content"]["application/json"]["schema"]
                    check(schema == {"$ref": "#/components/schemas/%s" % error_schema},
                          (path, status))
            # every placeholder of the pattern is a documented path parameter
            names = re.findall(r"\{(\w+)\}", path)  # whole segments or within one (".{format}")
            declared = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
            check(names == declared, (path, names, declared))
            # every GET route answers (not 404/405) with a plausible concrete path; the writes
            # are driven, role by role, by test_access_matrix.py
            if method != "GET":
                continue
            if open311:
                # services answer from the default taxonomy; an empty database has no request,
                # token or photo: those answer the spec's 404 list
                concrete = path.replace("{format}", "json").replace("{code}", "0101")
                st, _, body = s.get(concrete)
                missing = any(k in path for k in ("{id}", "{token}", "{sha}"))
                check(st == (404 if missing else 200), "%s %s answered %d" % (method, concrete, st))
                if missing:  # in the spec's error list (JSON, or XML where no format is asked)
                    check(b"404" in body and b"description" in body, body)
                continue
            concrete = path.replace("{code}", "330106").replace("{sha}", sha)
            concrete = concrete.replace("{year}", "2026")
            concrete = concrete.replace("{z}/{x}/{y}", "14/13660/6745")
            concrete = concrete.replace("{id}", str(case_id) if "/cases/" in path else "1")
            st, _, body = s.get(concrete + ("?lat=30.21&lon=120.11" if "locate" in path else ""))
            # A route with other required query parameters (the road network's) must name the
            # first missing one; every other route answers.
            required = [p["name"] for p in op.get("parameters", [])
                        if p["in"] == "query" and p.get("required")]
            if required and "locate" not in path:
                field = json.loads(body)["error"]["field"] if st == 400 else None
                check(field in required, "%s %s answered %d (%s)" % (method, concrete, st, field))
            else:
                check(st == 200, "%s %s answered %d" % (method, concrete, st))
        src = os.environ.get("CIVGRID_SOURCE_DIR")
        if src:
            on_disk = json.load(open(os.path.join(src, "src/http/openapi.json"), encoding="utf-8"))
            check(on_disk == doc, "the served document is the one in src/http/openapi.json "
                                  "(rebuild after editing it)")


def test_access_log():
    with TempDir() as tmp:
        log = os.path.join(tmp, "access.log")
        s = Server(make_db(tmp), access_log=log, login=ADMIN)
        with s:
            s.get("/api/v1/grids/330106001")
            s.get("/api/v1/no/such/thing")
        check(s.proc.returncode == 0, "clean stop: %s" % s.stderr)
        lines = open(log).read().splitlines()
        hit = [l for l in lines if " GET /api/v1/grids/330106001 200 " in l]
        miss = [l for l in lines if " GET /api/v1/no/such/thing 404 " in l]
        check(hit and miss, "\n".join(lines))
        f = hit[0].split()
        check(f[1] == "127.0.0.1" and int(f[5]) > 0 and f[6].endswith("ms") and
              f[0].endswith("Z"), hit[0])


if __name__ == "__main__":
    main([test_health_and_lists, test_tree_view, test_geojson_and_ogrinfo, test_grid_and_history,
          test_locate, test_check_endpoint, test_errors, test_openapi_matches_routes,
          test_access_log])
