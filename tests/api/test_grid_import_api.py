"""Grid imports through the API, over real HTTP against `civgrid serve`: POST
/api/v1/grids/imports answers 202 with a job, GET /api/v1/grids/imports/{id} is polled (with a
deadline, never a sleep standing in for the job) until the job is over. A good file is imported
and its grids are then readable (and audited under the caller); a file with bad features is
rejected as a whole, the report naming each bad feature, its field and why, with something to
draw it at, and nothing is written; a dry run writes nothing; roles without grid.write are
refused and a scoped operator may import only inside the scope; the body and feature limits of
the import (their own, apart from max_body) are enforced."""
import copy
import io
import json
import os
import time
import zipfile

from cgserver import ADMIN, Server, add_user, error_of, make_db
from cgtest import DATA, TempDir, check, main, run

FIXTURE = os.path.join(DATA, "api_grids.geojson")
TERMINAL = {"imported", "validated", "rejected", "failed"}
PHASES = ["queued", "reading", "validating", "checking", "writing", "done"]
DEADLINE = 60.0


def fixture():
    with open(FIXTURE, encoding="utf-8") as f:
        return json.load(f)


def body_of(doc, pad=0):
    return json.dumps(doc, ensure_ascii=False).encode() + b" " * pad


def start(s, body, query="", headers=None):
    h = {"Content-Type": "application/geo+json"}
    h.update(headers or {})
    return s.request("POST", "/api/v1/grids/imports" + query, body, headers=h)


def poll(s, location, headers=None):
    """Polls a job until it is over; returns (final doc, every doc seen), checking that progress
    never goes backwards."""
    seen = []
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        st, _, raw = s.request("GET", location, headers=headers)
        check(st == 200, "GET %s: %d %s" % (location, st, raw[:300]))
        doc = json.loads(raw)
        if seen:
            before = seen[-1]["progress"]
            now = doc["progress"]
            check(now["percent"] >= before["percent"] and
                  PHASES.index(now["phase"]) >= PHASES.index(before["phase"]),
                  "progress went backwards: %s then %s" % (before, now))
        seen.append(doc)
        if doc["state"] in TERMINAL:
            return doc, seen
        time.sleep(0.02)  # pacing between polls, not synchronisation: the loop waits on state
    raise AssertionError("import %s did not finish within %ds: %s" % (location, DEADLINE,
                                                                     seen[-1]))


def run_import(s, body, query="", headers=None):
    st, hdr, raw = start(s, body, query, headers)
    check(st == 202, "POST import: %d %s" % (st, raw[:300]))
    first = json.loads(raw)
    check(first["state"] == "queued" and first["result"] is None and
          hdr["Location"] == "/api/v1/grids/imports/%d" % first["id"], "202 body %s" % first)
    doc, seen = poll(s, hdr["Location"], headers)
    return doc, seen


def grid(s, code):
    st, _, raw = s.request("GET", "/api/v1/grids?limit=1000")
    check(st == 200, raw[:200])
    return {g["code"]: g for g in json.loads(raw)["grids"]}.get(code)


def audit(s, action):
    st, _, raw = s.request("GET", "/api/v1/audit?action=%s&limit=1000" % action)
    check(st == 200, "audit: %d %s" % (st, raw[:200]))
    return json.loads(raw)["entries"]


def empty_db(tmp):
    db = os.path.join(tmp, "empty.db")
    add_user(db, ADMIN[0], ADMIN[1], "admin")
    return db


def test_good_file_imports():
    with TempDir() as tmp:
        db = empty_db(tmp)
        with Server(db, login=ADMIN) as s:
            # 1.5 MiB of trailing whitespace: over max_body (1 MiB), within the import's limit
            body = body_of(fixture(), pad=1536 * 1024)
            check(len(body) > 1024 * 1024, "the body should pass max_body")
            doc, seen = run_import(s, body, "?name=xihu.geojson")
            check(doc["state"] == "imported" and doc["error"] is None, "state %s" % doc)
            r = doc["result"]
            check(r["features"] == 15 and r["accepted"] == 15 and r["rejected"] == 0 and
                  r["written"] == 15 and r["unchanged"] == 0 and r["rejects"] == [],
                  "counts %s" % r)
            check(r["levels"] == {"district": 1, "street": 2, "community": 4, "grid": 8},
                  "levels %s" % r["levels"])
            check(r["findings_count"] == len(r["findings"]), "findings %s" % r["findings"])
            p = doc["progress"]
            check(p["percent"] == 100 and p["phase"] == "done" and p["total"] == 15 and
                  p["validated"] == 15 and p["written"] == 15, "final progress %s" % p)
            check(doc["name"] == "xihu.geojson" and doc["bytes"] == len(body), doc)
            # readable at once from the store, and from the server's grids within a second or so
            g = grid(s, "330106001001001")
            check(g and g["name_zh"] == "保俶社区第1网格" and g["households"] == 150, g)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                st, _, raw = s.request("GET", "/api/v1/grids/330106001001002")
                if st == 200:
                    break
            check(st == 200 and json.loads(raw)["geometry"]["coordinates"], "reloaded: %d" % st)
            st, _, raw = s.request("GET", "/api/v1/locate?lat=30.21&lon=120.105")
            check(json.loads(raw)["grid"] is not None, "locate after the import: %s" % raw)
            # audited under the caller: a grid.put per grid and one grid.import
            puts = audit(s, "grid.put")
            check(len(puts) == 15 and all(e["actor"] == ADMIN[0] for e in puts), puts[:2])
            imports = audit(s, "grid.import")
            check(len(imports) == 1 and imports[0]["target"] == "import:%d" % doc["id"] and
                  imports[0]["actor"] == ADMIN[0], imports)
            # the same file again: all unchanged, nothing new written
            doc, _ = run_import(s, body_of(fixture()))
            check(doc["state"] == "imported" and doc["result"]["written"] == 0 and
                  doc["result"]["unchanged"] == 15, doc["result"])
            check(len(audit(s, "grid.put")) == 15, "an unchanged import wrote grids")
            # a job of 2,404 features is seen running, its progress moving through the phases
            doc, seen = run_import(s, body_of(many_grids()), "?dry_run=true")
            check(doc["state"] == "validated" and doc["result"]["accepted"] == 2404, doc["state"])
            running = [d["progress"] for d in seen if d["state"] == "running"]
            check(running and any(p["phase"] in ("validating", "checking") for p in running),
                  "never seen running: %s" % [d["progress"] for d in seen][:5])
            check(all(0 <= p["percent"] < 100 for p in running) and
                  seen[-1]["progress"]["percent"] == 100, [p["percent"] for p in running][:20])


def many_grids(communities=3, per=800):
    """A street of `communities` communities of `per` square grids each, for a job long enough
    to be seen running."""
    def square(x, y, d):
        return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d],
                                                    [x, y + d], [x, y]]]}
    features = [{"type": "Feature", "properties": {"code": "330107001", "name": "大街道"},
                 "geometry": square(120.0, 30.0, 0.3 * communities)}]
    for c in range(communities):
        code = "330107001%03d" % (c + 1)
        x0 = 120.0 + 0.3 * c
        features.append({"type": "Feature", "properties": {"code": code, "name": "社区%d" % c},
                         "geometry": square(x0, 30.0, 0.3)})
        for g in range(per):
            features.append({"type": "Feature", "properties": {
                "code": code + "%03d" % (g + 1), "name": "网格%d" % g, "grade": "routine"},
                "geometry": square(x0 + (g % 30) * 0.01, 30.0 + (g // 30) * 0.01, 0.01)})
    return {"type": "FeatureCollection", "features": features}


def bad_file():
    """The fixture with two grids renamed (valid changes) and four bad features."""
    doc = fixture()
    f = doc["features"]
    f[3]["properties"]["name"] = "改名的网格"
    f[4]["properties"]["households"] = 999
    del f[6]["properties"]["name"]                      # index 6: no name
    f[7]["properties"]["grade"] = "dangerous"           # index 7: unknown grade
    ring = f[10]["geometry"]["coordinates"][0]          # index 10: ring not closed
    f[10]["geometry"]["coordinates"][0] = ring[:-1]
    f[13]["properties"]["code"] = "33010600200200"      # index 13: a code of 14 digits
    return doc, {6: ("name_zh", "missing", "name_missing", None),
                 7: ("grade", "unknown", "grade_unknown", "dangerous"),
                 10: ("geometry", "closed", "geometry_unreadable", "*"),
                 13: ("code", "digits", "code_length_unknown", None)}


def test_bad_features_reject_the_whole_file():
    with TempDir() as tmp:
        db = make_db(tmp)
        with Server(db, login=ADMIN) as s:
            before = grid(s, "330106001001001")
            puts_before = len(audit(s, "grid.put"))
            doc, bad = bad_file()
            job, _ = run_import(s, body_of(doc))
            check(job["state"] == "rejected" and job["error"] is None, "state %s" % job)
            r = job["result"]
            check(r["features"] == 15 and r["rejected"] == 4 and r["written"] == 0, r)
            got = {x["index"]: x for x in r["rejects"]}
            check(sorted(got) == sorted(bad), "rejected indexes %s" % sorted(got))
            for i, (field, word, why, value) in bad.items():
                x = got[i]
                check(x["field"] == field and word in x["reason"],
                      "feature %d: %s (wanted %s / %s)" % (i, x, field, word))
                # the stable reason code and the value it names (the reader's own text for an
                # unreadable geometry), for clients that word the reason themselves
                check(x["reason_code"] == why and
                      (x["reason_value"] == value if value != "*" else
                       x["reason_value"] == x["reason"]),
                      "feature %d: reason_code %s / %s (wanted %s / %s)" %
                      (i, x["reason_code"], x["reason_value"], why, value))
                check(x["point"] and 120 < x["point"]["lon"] < 121 and
                      30 < x["point"]["lat"] < 31, "feature %d has nothing to draw: %s" % (i, x))
            check(got[7]["code"] == "330106001002002" and got[7]["name"] == "宝石社区第2网格",
                  got[7])
            check(got[7]["geometry"]["type"] == "MultiPolygon", "geometry of a readable reject")
            check(got[10]["geometry"] is None, "an unclosed ring has no geometry to draw")
            # nothing written: the renamed grid keeps its name, one version, no new audit entry
            after = grid(s, "330106001001001")
            check(after == before, "a rejected import changed %s" % after)
            st, _, raw = s.request("GET", "/api/v1/grids/330106001001001/history")
            check(len(json.loads(raw)["versions"]) == 1, "history grew")
            check(len(audit(s, "grid.put")) == puts_before and not audit(s, "grid.import"),
                  "a rejected import was audited as written")

            # a dry run of a good variant: validated, nothing written
            good = fixture()
            good["features"][3]["properties"]["name"] = "改名的网格"
            job, _ = run_import(s, body_of(good), "?dry_run=true")
            check(job["state"] == "validated" and job["result"]["accepted"] == 15 and
                  job["result"]["written"] == 0 and job["dry_run"], job)
            check(grid(s, "330106001001001") == before, "a dry run wrote")
            # then for real: one grid changed, fourteen unchanged
            job, _ = run_import(s, body_of(good))
            check(job["state"] == "imported" and job["result"]["written"] == 1 and
                  job["result"]["unchanged"] == 14, job["result"])
            check(grid(s, "330106001001001")["name_zh"] == "改名的网格", "rename not written")

            # a broken document fails as a whole, saying where
            job, _ = run_import(s, b'{"type": "FeatureCollection", "features": [')
            check(job["state"] == "failed" and job["error"]["code"] == "invalid" and
                  "line" in job["error"]["message"] and job["result"] is None, job)
            # the topology check: a grid drawn over its sibling is a finding (not a reject)
            over = fixture()
            over["features"][4]["geometry"] = copy.deepcopy(over["features"][3]["geometry"])
            job, _ = run_import(s, body_of(over), "?dry_run=1")
            kinds = {(x["kind"], x["code"]) for x in job["result"]["findings"]}
            check(job["state"] == "validated" and
                  any(k == "overlap" for k, _ in kinds), "findings %s" % kinds)
            f = [x for x in job["result"]["findings"] if x["kind"] == "overlap"][0]
            check({f["code"], f["other_code"]} == {"330106001001001", "330106001001002"} and
                  f["area_m2"] > 0 and f["geometry"] and f["point"], f)
            check(f["reason_code"] == "overlap", "overlap reason_code %s" % f)
            # a self-intersecting polygon (an uneven bow tie) is an invalid finding, coded by fault
            bow = fixture()
            ring = bow["features"][5]["geometry"]["coordinates"][0]
            (x0, y0), (x1, y1) = ring[0], ring[2]
            bow["features"][5]["geometry"]["coordinates"] = [[
                [x0, y0], [x1, y1], [x1, y0 + (y1 - y0) * 0.3], [x0, y1], [x0, y0]]]
            job, _ = run_import(s, body_of(bow), "?dry_run=1")
            bad_shape = [x for x in job["result"]["findings"] if x["kind"] == "invalid"]
            check(bad_shape and bad_shape[0]["reason_code"] == "invalid_self_intersection" and
                  bad_shape[0]["reason"] == "Self-intersection",
                  "invalid finding %s / rejects %s" % (bad_shape, job["result"]["rejects"]))


def zipped(files, comp=zipfile.ZIP_DEFLATED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", comp) as zf:
        for arc, data in files:
            zf.writestr(arc, data)
    return b.getvalue()


def shapefile_parts(stem, folder=""):
    out = []
    for ext in ("shp", "shx", "dbf", "prj", "cpg"):
        path = os.path.join(DATA, "%s.%s" % (stem, ext))
        if os.path.exists(path):
            with open(path, "rb") as f:
                out.append((folder + stem + "." + ext, f.read()))
    return out


def test_zipped_shapefiles():
    with TempDir() as tmp:
        db = empty_db(tmp)
        with Server(db, login=ADMIN) as s:
            zip_headers = {"Content-Type": "application/zip"}
            # a projected (UTM 50N) Shapefile in a folder of the archive, stored
            body = zipped(shapefile_parts("shp_utm50", "export/") +
                          [("__MACOSX/export/._shp_utm50.shp", b"\0\5\26\7")],
                          zipfile.ZIP_STORED)
            job, _ = run_import(s, body, "?name=utm50.zip", headers=zip_headers)
            check(job["state"] == "imported" and job["format"] == "shapefile" and
                  job["result"]["written"] == 1, job)
            g = grid(s, "330106001001")
            check(g and g["name_zh"] == "测试网格", g)
            st, _, raw = s.request("GET", "/api/v1/grids/330106001001/history")
            x, y = json.loads(raw)["versions"][0]["geometry"]["coordinates"][0][0][0]
            check(110 < x < 125 and 20 < y < 40, "reprojected to lon/lat: %s" % [x, y])
            # GBK attributes (by the .cpg), deflated; feature 3 has no shape: rejected as a whole
            job, _ = run_import(s, zipped(shapefile_parts("shp_gbk")), "?format=shapefile")
            r = job["result"]
            check(job["state"] == "rejected" and r["features"] == 4 and r["written"] == 0 and
                  [(x["index"], x["code"], x["field"]) for x in r["rejects"]] ==
                  [(3, "330106004", "geometry")], "GBK shapefile: %s" % r)
            check(grid(s, "330106001") is None, "a rejected Shapefile import wrote grids")
            # archives that are not one Shapefile fail as a whole, saying why (field zip)
            two = zipped(shapefile_parts("shp_utf8") + shapefile_parts("shp_gbk"))
            for body, words in ((two, "2 .shp"),
                                (zipped([("readme.txt", b"hello")]), "no .shp"),
                                (b"PK\3\4 this is not really a zip", "not a ZIP"),
                                (two[:len(two) // 2] + two[-22:], "damaged")):
                job, _ = run_import(s, body, headers=zip_headers)
                check(job["state"] == "failed" and job["error"]["field"] == "zip" and
                      words in job["error"]["message"], "%s: %s" % (words, job["error"]))
            st, _, raw = start(s, body_of(fixture()), "?encoding=GBK")
            check(st == 400 and error_of(raw)[1] == "encoding", raw)


def test_shutdown_during_an_import():
    """SIGTERM while a large import runs: the server still stops promptly and cleanly, and the
    database holds the whole import or none of it."""
    with TempDir() as tmp:
        db = make_db(tmp)
        with Server(db, login=ADMIN) as s:
            st, _, raw = start(s, body_of(many_grids()))
            check(st == 202, raw[:200])
            t0 = time.monotonic()
            code = s.stop()
            check(code == 0 and time.monotonic() - t0 < 20, "stop: %d after %.1fs" %
                  (code, time.monotonic() - t0))
        with Server(db, login=ADMIN) as s:
            st, _, raw = s.request("GET", "/api/v1/grids?limit=1")
            total = json.loads(raw)["total"]
            check(total in (15, 15 + 2404), "a stopped import left %d grids" % total)


def test_permissions_scope_and_limits():
    with TempDir() as tmp:
        db = make_db(tmp)
        add_user(db, "worker1", "Worker-pass-2026", "worker")
        add_user(db, "op_baochu", "Operator-pass-2026", "operator", "330106001001")
        config = os.path.join(tmp, "serve.json")
        with open(config, "w") as f:
            json.dump({"max_import_body": 20000, "max_import_features": 12}, f)
        with Server(db, "--config", config, login=ADMIN) as s:
            admin = dict(s.headers)
            small = fixture()
            small["features"] = small["features"][:5]
            # anonymous and a worker are refused before the body counts
            st, _, raw = start(s, body_of(small), headers={"Authorization": ""})
            check(st == 401 and error_of(raw)[0] == "unauthenticated", "anonymous %d" % st)
            check(s.login("worker1", "Worker-pass-2026")[0] == 200, "worker login")
            st, _, raw = start(s, body_of(small))
            check(st == 403 and error_of(raw)[0] == "forbidden", "worker %d %s" % (st, raw))
            # a scoped operator: grids outside the scope are rejected, inside imported
            check(s.login("op_baochu", "Operator-pass-2026")[0] == 200, "operator login")
            op = dict(s.headers)
            job, _ = run_import(s, body_of(small))
            r = job["result"]
            outside = {x["code"] for x in r["rejects"] if "outside your scope" in x["reason"]}
            check(all(x["reason_code"] == "outside_scope" and x["reason_value"]
                      for x in r["rejects"] if x["code"] in outside), r["rejects"])
            check(job["state"] == "rejected" and
                  outside == {"330106", "330106001"}, "scoped import: %s" % r["rejects"])
            mine = fixture()
            mine["features"] = [f for f in mine["features"]
                                if f["properties"]["code"].startswith("330106001001")]
            mine["features"][1]["properties"]["name"] = "保俶一格"
            job, _ = run_import(s, body_of(mine))
            check(job["state"] == "imported" and job["result"]["written"] == 1, job["result"])
            # another account does not see the job: the answer of a missing one
            st1, _, raw1 = s.request("GET", "/api/v1/grids/imports/%d" % job["id"],
                                     headers=admin)
            st2, _, raw2 = s.request("GET", "/api/v1/grids/imports/987654", headers=admin)
            check(st1 == st2 == 404 and error_of(raw1) == error_of(raw2), "%d %s" % (st1, raw1))
            s.headers = admin
            # the import's own body limit: 413 on the headers
            st, _, raw = start(s, body_of(small, pad=30000))
            check(st == 413 and error_of(raw) == ("too_large", "body") and
                  b"20000" in raw, "oversized import: %d %s" % (st, raw))
            # the feature limit: the whole file fails, nothing written
            job, _ = run_import(s, body_of(fixture()))
            check(job["state"] == "failed" and job["error"]["field"] == "features" and
                  "12" in job["error"]["message"], job)
            # a zip that unpacks past four times max_import_body stops at the limit
            bomb = zipped([("big.shp", b"\0" * (6 << 20)), ("big.dbf", b"\0" * 1000)])
            check(len(bomb) < 20000, "the bomb should pass the body limit: %d" % len(bomb))
            job, _ = run_import(s, bomb, "?format=shapefile")
            check(job["state"] == "failed" and job["error"]["field"] == "zip" and
                  "over the limit" in job["error"]["message"], job["error"])
            # bad requests are refused at once, naming the parameter
            for query, body, field in (("?dry_run=maybe", body_of(small), "dry_run"),
                                       ("?crs=bd09", body_of(small), "crs"),
                                       ("?colour=red", body_of(small), "colour"),
                                       ("", b"", "body")):
                st, _, raw = start(s, body, query)
                check(st == 400 and error_of(raw)[1] == field, "%s: %d %s" % (query, st, raw))
            st, _, raw = s.request("GET", "/api/v1/grids/imports/abc")
            check(st == 400 and error_of(raw)[1] == "id", raw)


if __name__ == "__main__":
    main([test_good_file_imports, test_bad_features_reject_the_whole_file,
          test_zipped_shapefiles, test_shutdown_during_an_import,
          test_permissions_scope_and_limits])
