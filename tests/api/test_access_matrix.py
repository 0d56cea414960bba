"""Every endpoint x every role x inside/outside the caller's scope, against the real server on the
`civgrid demo` district. Each role's account (made with `civgrid user add`) works in one
community, A; B is another community. For each route the test asserts allowed or refused
(401 anonymous, 403 without the permission, 404 outside the scope), and that a refused read
leaks nothing: the answer for an object outside the scope is byte for byte the answer for one
that does not exist (with the asked-for code or id put back in place), lists hold nothing from
outside, and counts count only the scope.

The expected permissions below are the access policy as the product states it (worker and leader
read and locate, operators also write grids, assign teams, check topology and list accounts,
handlers also read residents' contacts, inspectors also check topology, read the audit log and
list accounts, administrators do everything); /auth/me must say the same. A route the server has
and this table lacks fails the test: every new route needs its row."""
import json
import math
import os
import time

from cgserver import Server, add_user, error_of
from cgtest import TempDir, check, main, run

ROLES = ["worker", "leader", "operator", "handler", "inspector", "admin", "anonymous"]
CASE_STAFF = {"case.read", "case.transition"}
POLICY = {
    "worker": {"grid.read", "locate", "case.create"} | CASE_STAFF,
    "leader": {"grid.read", "locate", "case.create", "case.stats"} | CASE_STAFF,
    "operator": {"grid.read", "grid.write", "grid.team.write", "grid.check", "locate",
                 "user.read", "case.create", "case.stats"} | CASE_STAFF,
    "handler": {"grid.read", "locate", "contact.read"} | CASE_STAFF,
    "inspector": {"grid.read", "grid.check", "locate", "audit.read", "user.read", "case.create",
                  "case.stats"} | CASE_STAFF,
    "admin": {"grid.read", "grid.write", "grid.team.write", "grid.check", "locate", "user.read",
              "user.admin", "audit.read", "contact.read", "case.create", "case.stats",
              "category.write", "calendar.write"} | CASE_STAFF,
    "anonymous": set(),
}
PASSWORD = "Matrix-pass-2026"
ROOT = ("m_root", "Matrix-root-2026")
MISSING_CODE = "999999999999999"
MISSING_ID = "987654"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + \
    b"\x00" * 64 + b"\xff\xd9"
YEAR_2027 = {"year": 2027, "holidays": ["2027-01-01"], "workdays": [], "source": "matrix"}


def allowed(role, perm):
    if perm == "public":
        return True
    if perm == "account":
        return role != "anonymous"
    return perm in POLICY[role]


class World:
    """The demo district, an account per role scoped to community A, and two sessions per
    role (one to spend on logout)."""

    def __init__(self, tmp):
        run("demo", "--out", tmp, check=0)
        self.db = os.path.join(tmp, "civgrid.db")
        run("net", "build", "--db", self.db, check=0)  # for the routing and planning routes
        # the demo has its own "admin" (with a password printed once): the test's root is another
        add_user(self.db, ROOT[0], ROOT[1], "admin")

    def start(self, s):
        check(s.login(*ROOT)[0] == 200, "root login")
        self.root = dict(s.headers)
        _, _, body = s.request("GET", "/api/v1/grids?level=community&limit=100")
        communities = [g["code"] for g in json.loads(body)["grids"]]
        check(len(communities) >= 2, communities)
        self.a, self.b = communities[0], communities[1]
        _, _, body = s.request("GET", "/api/v1/grids?limit=10000")
        everything = json.loads(body)["grids"]
        self.count_a = sum(1 for g in everything if g["code"].startswith(self.a))
        check(0 < self.count_a < len(everything), "A is a part of the district")
        self.households = sum(g["households"] for g in everything if g["level"] == "district")
        _, _, body = s.request("GET", "/api/v1/grids?parent=%s" % self.a)
        self.grid_a = json.loads(body)["grids"][0]["code"]
        _, _, body = s.request("GET", "/api/v1/grids?parent=%s" % self.b)
        self.grid_b = json.loads(body)["grids"][0]["code"]
        self.users, self.sessions, self.spare = {}, {}, {}
        for role in ROLES[:-1]:
            name = "m_" + role
            self.users[role] = add_user(self.db, name, PASSWORD, role, self.a)
            for store in (self.sessions, self.spare):
                st, _, _ = s.login(name, PASSWORD)
                check(st == 200, "login as %s" % name)
                store[role] = dict(s.headers)
        self.sessions["anonymous"] = self.spare["anonymous"] = {"Authorization": ""}
        self.user_b = add_user(self.db, "m_outsider", PASSWORD, "worker", self.b)
        s.headers = {}
        self.cases(s)

    def center(self, s, code):
        _, _, g = s.request("GET", "/api/v1/grids/%s" % code, headers=self.root)
        ring = json.loads(g)["geometry"]["coordinates"][0][0]
        return (sum(p[0] for p in ring[:-1]) / (len(ring) - 1),
                sum(p[1] for p in ring[:-1]) / (len(ring) - 1))

    def cases(self, s):
        """A case in A, one in B and one in no grid (root reports them, with a resident's
        contact and the same photo each), and the taxonomy to put back."""
        self.case, self.point = {}, {}
        for key, where in (("a", self.grid_a), ("b", self.grid_b), ("none", None)):
            lon, lat = self.center(s, where) if where else (10.0, 10.0)
            self.point[key] = (lon, lat)
            st, _, raw = s.request("POST", "/api/v1/cases", {
                "category": "0101", "description": "matrix case %s" % key, "lon": lon,
                "lat": lat, "contact": "1390000%04d" % len(self.case), "source": "hotline"},
                headers=self.root)
            check(st == 201, "root reports a case in %s: %d %s" % (key, st, raw[:300]))
            self.case[key] = json.loads(raw)["case"]["id"]
            st, _, raw = s.request("POST", "/api/v1/cases/%d/photos" % self.case[key], JPEG,
                                   headers=dict(self.root, **{"Content-Type": "image/jpeg"}))
            check(st == 201, "photo: %d %s" % (st, raw[:300]))
            self.sha = json.loads(raw)["sha256"]
        check(json.loads(s.request("GET", "/api/v1/cases/%d" % self.case["none"],
                                   headers=self.root)[2])["case"]["grid"] is None,
              "a point in no grid goes to the no-grid queue")
        _, _, self.taxonomy = s.request("GET", "/api/v1/categories", headers=self.root)


def call(s, w, role, method, path, body=None, spare=False):
    st, _, raw = s.request(method, path, body,
                           headers=(w.spare if spare else w.sessions)[role])
    return st, raw


def same_as_missing(out_raw, missing_raw, out_key, missing_key):
    """The out-of-scope answer is the missing one with the asked-for key put back."""
    return out_raw.replace(out_key.encode(), b"@") == missing_raw.replace(missing_key.encode(),
                                                                          b"@")


def expect_refusal(role, perm, st, raw, what):
    want = 401 if role == "anonymous" else 403
    check(st == want and error_of(raw)[0] in ("unauthenticated", "forbidden"),
          "%s as %s: %d %s" % (what, role, st, raw[:200]))
    for leak in (b"grids", b"total", b"name_zh", b"username"):
        check(leak not in raw, "%s as %s leaks %s" % (what, role, leak))


def scoped_object(s, w, role, perm, method, template, key_in, key_out, key_missing, body=None,
                  ok=200):
    """A route on one object: in scope it works, out of scope it is the missing answer."""
    what = "%s %s" % (method, template)
    st, raw = call(s, w, role, method, template.format(key_in), body)
    if not allowed(role, perm):
        expect_refusal(role, perm, st, raw, what)
        st, raw = call(s, w, role, method, template.format(key_out), body)
        expect_refusal(role, perm, st, raw, what + " (outside)")
        return
    check(st in (ok if isinstance(ok, tuple) else (ok,)),
          "%s as %s in scope: %d %s" % (what, role, st, raw[:300]))
    st_out, out = call(s, w, role, method, template.format(key_out), body)
    st_miss, miss = call(s, w, role, method, template.format(key_missing), body)
    check(st_out == st_miss == 404, "%s as %s outside: %d / missing %d" % (what, role, st_out,
                                                                           st_miss))
    check(same_as_missing(out, miss, key_out, key_missing),
          "%s as %s: outside %s vs missing %s" % (what, role, out, miss))


def run_case_rows(s, w, role, row):
    """The case routes: reads and steps only in scope (the no-grid queue is outside every
    scoped account's), contact reads only for contact.read, rules for administrators."""
    a, b, none = (str(w.case[k]) for k in ("a", "b", "none"))
    row("POST", "/api/v1/cases")
    lon, lat = w.point["a"]
    new = {"category": "0101", "description": "reported by %s" % role, "lon": lon, "lat": lat}
    st, raw = call(s, w, role, "POST", "/api/v1/cases", new)
    if not allowed(role, "case.create"):
        expect_refusal(role, "case.create", st, raw, "create case")
    else:
        doc = json.loads(raw)
        check(st == 201 and doc["case"]["grid"].startswith(w.a), "create as %s: %s" % (role, raw))
        lon, lat = w.point["b"]
        st, raw = call(s, w, role, "POST", "/api/v1/cases", dict(new, lon=lon, lat=lat))
        check(st == 400 and error_of(raw) == ("invalid", "location"),
              "reporting outside one's scope as %s: %d %s" % (role, st, raw[:200]))

    row("GET", "/api/v1/cases")
    st, raw = call(s, w, role, "GET", "/api/v1/cases?limit=500")
    if not allowed(role, "case.read"):
        expect_refusal(role, "case.read", st, raw, "cases")
    else:
        doc = json.loads(raw)
        ids = [c["id"] for c in doc["cases"]]
        _, _, whole = s.request("GET", "/api/v1/cases?limit=500&grid=%s" % w.a, headers=w.root)
        check(st == 200 and w.case["a"] in ids and w.case["b"] not in ids and
              w.case["none"] not in ids and all((c["grid"] or "").startswith(w.a)
                                                for c in doc["cases"]) and
              doc["total"] == json.loads(whole)["total"] == len(ids),
              "cases as %s: %s" % (role, raw[:300]))
        st, out = call(s, w, role, "GET", "/api/v1/cases?grid=%s" % w.b)
        st2, miss = call(s, w, role, "GET", "/api/v1/cases?grid=%s" % MISSING_CODE)
        check(st == st2 == 200 and same_as_missing(out, miss, w.b, MISSING_CODE) and
              json.loads(out)["total"] == 0, out)
        st, out = call(s, w, role, "GET", "/api/v1/cases?no_grid=true")
        check(st == 200 and json.loads(out)["total"] == 0, out)

    for path, perm in (("/api/v1/cases/{}", "case.read"),
                       ("/api/v1/cases/{}/suggestions", "case.read"),
                       ("/api/v1/cases/{}/duplicates", "case.read"),
                       ("/api/v1/cases/{}/photos/" + w.sha, "case.read"),
                       ("/api/v1/cases/{}/contact", "contact.read")):
        row("GET", path.replace("{}", "{id}").replace(w.sha, "{sha}"))
        scoped_object(s, w, role, perm, "GET", path, a, b, MISSING_ID)
        if allowed(role, perm):  # the no-grid queue is outside a scoped account's reach too
            st, raw = call(s, w, role, "GET", path.format(none))
            check(st == 404, "%s of the no-grid case as %s: %d" % (path, role, st))
    # evaluating a reported case is a step nobody may take in that state: 409 in scope
    row("POST", "/api/v1/cases/{id}/transitions")
    scoped_object(s, w, role, "case.transition", "POST", "/api/v1/cases/{}/transitions", a, b,
                  MISSING_ID, body={"action": "evaluate", "evaluation": 5}, ok=409)
    row("POST", "/api/v1/cases/{id}/assign")
    scoped_object(s, w, role, "case.transition", "POST", "/api/v1/cases/{}/assign", a, b,
                  MISSING_ID, body={"assignee": {"kind": "department", "label": "X"}},
                  ok=(403, 409))
    row("POST", "/api/v1/cases/{id}/photos")
    scoped_object(s, w, role, "case.transition", "POST", "/api/v1/cases/{}/photos", a, b,
                  MISSING_ID, body=JPEG, ok=201)

    row("GET", "/api/v1/stats/cases")
    st, raw = call(s, w, role, "GET", "/api/v1/stats/cases?group=grid")
    if not allowed(role, "case.stats"):
        expect_refusal(role, "case.stats", st, raw, "stats")
    else:
        rows = json.loads(raw)["rows"]
        check(st == 200 and rows and all(r["key"].startswith(w.a) for r in rows),
              "stats as %s: %s" % (role, raw[:300]))
        st, raw = call(s, w, role, "GET", "/api/v1/stats/cases?grid=%s" % w.b)
        check(st == 200 and json.loads(raw)["rows"] == [], "stats outside as %s" % role)

    row("GET", "/api/v1/categories")
    st, raw = call(s, w, role, "GET", "/api/v1/categories")
    if role == "anonymous":
        expect_refusal(role, "account", st, raw, "categories")
    else:
        check(st == 200 and json.loads(raw)["categories"], "categories as %s" % role)
    row("PUT", "/api/v1/categories")
    st, raw = call(s, w, role, "PUT", "/api/v1/categories", w.taxonomy)
    if not allowed(role, "category.write"):
        expect_refusal(role, "category.write", st, raw, "put categories")
    else:
        check(st == 200, "put categories as %s: %d %s" % (role, st, raw[:200]))
    row("GET", "/api/v1/calendar/{year}")
    st, raw = call(s, w, role, "GET", "/api/v1/calendar/2026")
    if role == "anonymous":
        expect_refusal(role, "account", st, raw, "calendar")
    else:
        check(st == 200 and json.loads(raw)["year"] == 2026, "calendar as %s" % role)
    row("PUT", "/api/v1/calendar/{year}")
    st, raw = call(s, w, role, "PUT", "/api/v1/calendar/2027", YEAR_2027)
    if not allowed(role, "calendar.write"):
        expect_refusal(role, "calendar.write", st, raw, "put calendar")
    else:
        check(st == 200 and json.loads(raw)["holidays"] == ["2027-01-01"],
              "put calendar as %s: %d %s" % (role, st, raw[:200]))


def import_body(s, w, code):
    """A GeoJSON file re-drawing one grid as it is (a dry run of it changes nothing)."""
    _, _, raw = s.request("GET", "/api/v1/grids/%s" % code, headers=w.root)
    g = json.loads(raw)
    return json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": g["geometry"],
        "properties": {"code": code, "name": g["name_zh"], "grade": g["grade"]}}]}).encode()


def import_job(s, w, role, code):
    """Starts a dry-run import of one grid as role and polls it (with a deadline) until over."""
    st, raw = call(s, w, role, "POST", "/api/v1/grids/imports?dry_run=true",
                   import_body(s, w, code))
    if st != 202:
        return st, raw, None
    job = json.loads(raw)
    deadline = time.monotonic() + 60
    while job["state"] in ("queued", "running") and time.monotonic() < deadline:
        st2, raw2 = call(s, w, role, "GET", "/api/v1/grids/imports/%d" % job["id"])
        check(st2 == 200, "import job as %s: %d %s" % (role, st2, raw2[:200]))
        job = json.loads(raw2)
    return st, raw, job


def run_import_rows(s, w, role, row):
    """Grid imports: grid.write; a job writes only within the caller's scope, and a job is seen
    only by the account that started it (another's answers as a missing one)."""
    row("POST", "/api/v1/grids/imports")
    row("GET", "/api/v1/grids/imports/{id}")
    st, raw, job = import_job(s, w, role, w.grid_a)
    if not allowed(role, "grid.write"):
        expect_refusal(role, "grid.write", st, raw, "import")
        st, raw = call(s, w, role, "GET", "/api/v1/grids/imports/1")
        expect_refusal(role, "grid.write", st, raw, "import job")
        return
    check(st == 202 and job["state"] == "validated", "import in scope as %s: %s" % (role, job))
    _, _, out = import_job(s, w, role, w.grid_b)
    check(out["state"] == "rejected" and "outside your scope" in out["result"]["rejects"][0][
        "reason"], "import outside the scope as %s: %s" % (role, out))
    # the root's job is not this account's: the same answer as a job that does not exist
    st, _, raw = s.request("POST", "/api/v1/grids/imports?dry_run=true",
                           import_body(s, w, w.grid_a), headers=w.root)
    theirs = json.loads(raw)["id"]
    st1, other = call(s, w, role, "GET", "/api/v1/grids/imports/%d" % theirs)
    st2, miss = call(s, w, role, "GET", "/api/v1/grids/imports/%s" % MISSING_ID)
    check(st1 == st2 == 404 and same_as_missing(other, miss, str(theirs), MISSING_ID),
          "another's import job as %s: %d %s" % (role, st1, other))


def tile_of(lon, lat, z):
    """The Web Mercator tile z/x/y holding a point, as slippy maps number them."""
    n = 2 ** z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return "/api/v1/basemap/%d/%d/%d" % (z, int((lon + 180) / 360 * n), int(y))


def run_matrix(s, w):
    covered = set()
    st, _, raw = s.request("GET", "/api/v1/basemap")
    b = json.loads(raw)["bounds"]
    w.basemap_tile = tile_of((b[0] + b[2]) / 2, (b[1] + b[3]) / 2, 16)
    w.basemap_body = s.request("GET", w.basemap_tile)[2]

    def row(method, pattern):
        covered.add((method, pattern))

    for role in ROLES:
        # public
        row("GET", "/healthz")
        st, raw = call(s, w, role, "GET", "/healthz")
        doc = json.loads(raw)
        check(st == 200 and doc["status"] == "ok", raw)
        if role == "anonymous":
            check(set(doc) == {"status"}, "anonymous health leaks %s" % doc)
        else:
            check(doc["grids"] == w.count_a, "health counts the scope: %s vs %d" % (doc,
                                                                                   w.count_a))
        row("GET", "/api/v1/openapi.json")
        check(call(s, w, role, "GET", "/api/v1/openapi.json")[0] == 200, "openapi")
        row("POST", "/api/v1/auth/login")  # every role logged in above; anonymous has no account
        # who am I
        row("GET", "/api/v1/auth/me")
        st, raw = call(s, w, role, "GET", "/api/v1/auth/me")
        if role == "anonymous":
            expect_refusal(role, "account", st, raw, "me")
        else:
            me = json.loads(raw)
            check(st == 200 and set(me["permissions"]) - {"public"} == POLICY[role] and
                  me["scope"] == w.a, "me as %s: %s" % (role, me))

        # grid list: only the scope, counted within it; outside is an empty list
        row("GET", "/api/v1/grids")
        st, raw = call(s, w, role, "GET", "/api/v1/grids?limit=10000")
        if not allowed(role, "grid.read"):
            expect_refusal(role, "grid.read", st, raw, "grids")
        else:
            doc = json.loads(raw)
            codes = [g["code"] for g in doc["grids"]]
            check(st == 200 and codes and all(c.startswith(w.a) for c in codes) and
                  doc["total"] == len(codes) and w.a in codes, "grids as %s" % role)
            st, out = call(s, w, role, "GET", "/api/v1/grids?parent=%s" % w.b)
            st2, miss = call(s, w, role, "GET", "/api/v1/grids?parent=%s" % MISSING_CODE)
            check(st == st2 == 200 and same_as_missing(out, miss, w.b, MISSING_CODE) and
                  json.loads(out)["total"] == 0, out)
            st, geo = call(s, w, role, "GET", "/api/v1/grids?format=geojson")
            check(all(f["id"].startswith(w.a) for f in json.loads(geo)["features"]), "geojson")

        row("GET", "/api/v1/grids/{code}")
        scoped_object(s, w, role, "grid.read", "GET", "/api/v1/grids/{}", w.grid_a, w.grid_b,
                      MISSING_CODE)
        row("GET", "/api/v1/grids/{code}/history")
        scoped_object(s, w, role, "grid.read", "GET", "/api/v1/grids/{}/history", w.grid_a,
                      w.grid_b, MISSING_CODE)
        row("GET", "/api/v1/grids/{code}/team")
        scoped_object(s, w, role, "grid.read", "GET", "/api/v1/grids/{}/team", w.grid_a,
                      w.grid_b, MISSING_CODE)
        row("PUT", "/api/v1/grids/{code}/team")
        scoped_object(s, w, role, "grid.team.write", "PUT", "/api/v1/grids/{}/team", w.grid_a,
                      w.grid_b, MISSING_CODE, body={"leader": w.users["leader"], "members": []})

        # topology check: findings only on grids in scope (a clean demo has none anywhere)
        row("GET", "/api/v1/grids/check")
        st, raw = call(s, w, role, "GET", "/api/v1/grids/check")
        if not allowed(role, "grid.check"):
            expect_refusal(role, "grid.check", st, raw, "check")
        else:
            doc = json.loads(raw)
            check(st == 200 and all(f["code"].startswith(w.a) for f in doc["findings"]), doc)

        # locate: the in-scope part of the path; a point outside is a point in no grid
        row("GET", "/api/v1/locate")
        if not allowed(role, "locate"):
            st, raw = call(s, w, role, "GET", "/api/v1/locate?lat=0&lon=0")
            expect_refusal(role, "locate", st, raw, "locate")
        else:
            for code, inside in ((w.grid_a, True), (w.grid_b, False)):
                _, _, g = s.request("GET", "/api/v1/grids/%s" % code, headers=w.root)
                ring = json.loads(g)["geometry"]["coordinates"][0][0]
                lon = sum(p[0] for p in ring[:-1]) / (len(ring) - 1)
                lat = sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
                st, raw = call(s, w, role, "GET", "/api/v1/locate?lat=%.7f&lon=%.7f" % (lat, lon))
                doc = json.loads(raw)
                path = [p["code"] for p in doc["path"]]
                if inside:
                    check(st == 200 and path and path[0] == w.a and
                          all(c.startswith(w.a) for c in path), doc)
                else:
                    check(st == 200 and path == [] and doc["grid"] is None and
                          w.b.encode() not in raw, "locate outside as %s: %s" % (role, doc))

        # road routing (api_net.c) is not about grids: no scope, only the permission
        row("GET", "/api/v1/route")
        st, raw = call(s, w, role, "GET", "/api/v1/route?from=30.27,120.15&to=30.28,120.16")
        if not allowed(role, "locate"):
            expect_refusal(role, "locate", st, raw, "route")
        else:
            check(st not in (401, 403), "route as %s: %d %s" % (role, st, raw[:200]))

        # planning on the road network (api_plan.c): isochrone and dispatch are not about grids;
        # coverage reports only grids in scope, and a posts plan plans only for demand in scope
        here = "30.27,120.16"
        row("GET", "/api/v1/isochrone")
        st, raw = call(s, w, role, "GET", "/api/v1/isochrone?lat=30.27&lon=120.16&budget=60")
        if not allowed(role, "locate"):
            expect_refusal(role, "locate", st, raw, "isochrone")
        else:
            check(st == 200, "isochrone as %s: %d %s" % (role, st, raw[:200]))
        row("GET", "/api/v1/dispatch")
        st, raw = call(s, w, role, "GET",
                       "/api/v1/dispatch?lat=30.27&lon=120.16&units=%s;30.275,120.165" % here)
        if not allowed(role, "locate"):
            expect_refusal(role, "locate", st, raw, "dispatch")
        else:
            check(st == 200, "dispatch as %s: %d %s" % (role, st, raw[:200]))
        row("GET", "/api/v1/coverage")
        st, raw = call(s, w, role, "GET", "/api/v1/coverage?posts=%s&budget=120" % here)
        if not allowed(role, "grid.read"):
            expect_refusal(role, "grid.read", st, raw, "coverage")
        else:
            codes = [g["code"] for g in json.loads(raw)["grids"]]
            check(st == 200 and codes and all(c.startswith(w.a) for c in codes) and
                  w.b.encode() not in raw, "coverage as %s reaches outside its scope" % role)
        row("GET", "/api/v1/pois")
        st, raw = call(s, w, role, "GET", "/api/v1/pois?kind=police")
        if not allowed(role, "grid.read"):
            expect_refusal(role, "grid.read", st, raw, "pois")
        else:
            check(st == 200 and json.loads(raw)["count"] >= 1, "pois as %s: %d" % (role, st))
        row("POST", "/api/v1/posts/plan")
        st, raw = call(s, w, role, "POST", "/api/v1/posts/plan", body={"budget": 300})
        if not allowed(role, "grid.write"):
            expect_refusal(role, "grid.write", st, raw, "posts plan")
        else:
            plan = json.loads(raw)["plan"]
            check(st == 200 and 0 < plan["total_weight"] < w.households,
                  "posts plan as %s plans for households outside its scope: %s" % (role, plan))

        run_import_rows(s, w, role, row)

        # accounts
        row("GET", "/api/v1/users")
        st, raw = call(s, w, role, "GET", "/api/v1/users")
        if not allowed(role, "user.read"):
            expect_refusal(role, "user.read", st, raw, "users")
        else:
            names = [u["username"] for u in json.loads(raw)["users"]]
            check(st == 200 and "m_worker" in names and "m_outsider" not in names and
                  ROOT[0] not in names, names)
        row("GET", "/api/v1/users/{id}")
        scoped_object(s, w, role, "user.read", "GET", "/api/v1/users/{}", str(w.users["worker"]),
                      str(w.user_b), MISSING_ID)
        row("PATCH", "/api/v1/users/{id}")
        scoped_object(s, w, role, "user.admin", "PATCH", "/api/v1/users/{}",
                      str(w.users["worker"]), str(w.user_b), MISSING_ID,
                      body={"duty_phone": "110"})
        row("POST", "/api/v1/users/{id}/password")
        scoped_object(s, w, role, "user.admin", "POST", "/api/v1/users/{}/password",
                      str(w.users["handler"]), str(w.user_b), MISSING_ID,
                      body={"password": PASSWORD})
        row("POST", "/api/v1/users")
        new = {"username": "n_%s" % role, "password": PASSWORD, "roles": ["worker"],
               "scope": w.grid_a}
        st, raw = call(s, w, role, "POST", "/api/v1/users", new)
        if not allowed(role, "user.admin"):
            expect_refusal(role, "user.admin", st, raw, "create user")
        else:
            check(st == 201, raw)
            st, raw = call(s, w, role, "POST", "/api/v1/users",
                           dict(new, username="o_%s" % role, scope=w.grid_b))
            check(st == 400 and error_of(raw) == ("invalid", "scope"),
                  "granting outside one's scope: %s" % raw)

        # audit: only entries about grids in scope
        row("GET", "/api/v1/audit")
        st, raw = call(s, w, role, "GET", "/api/v1/audit?limit=1000")
        if not allowed(role, "audit.read"):
            expect_refusal(role, "audit.read", st, raw, "audit")
        else:
            entries = json.loads(raw)["entries"]
            check(st == 200 and entries and
                  all(e["target"].startswith("grid:" + w.a) for e in entries),
                  "audit as %s: %s" % (role, [e["target"] for e in entries][:10]))
            st, raw = call(s, w, role, "GET", "/api/v1/audit?target=grid:%s" % w.b)
            check(st == 200 and json.loads(raw)["entries"] == [], raw)

        run_case_rows(s, w, role, row)

        # Open311 (open311.c) is public: every role, anonymous included, gets the same answers;
        # POST is gated by api_key, not by roles (this server configures none: the spec's 403)
        for pattern, concrete, want in (
                ("/open311/v2/discovery.{format}", "/open311/v2/discovery.json", 200),
                ("/open311/v2/services.{format}", "/open311/v2/services.xml", 200),
                ("/open311/v2/services/{code}.{format}", "/open311/v2/services/0101.json", 200),
                ("/open311/v2/requests.{format}", "/open311/v2/requests.json", 200),
                ("/open311/v2/requests/{id}.{format}", "/open311/v2/requests/%s.json" % MISSING_ID,
                 404),
                ("/open311/v2/requests/{id}/media/{sha}",
                 "/open311/v2/requests/%s/media/%s" % (MISSING_ID, "0" * 64), 404),
                ("/open311/v2/tokens/{token}.{format}", "/open311/v2/tokens/%s.json" % ("0" * 32),
                 404)):
            row("GET", pattern)
            st, raw = call(s, w, role, "GET", concrete)
            check(st == want, "GET %s as %s: %d %s" % (concrete, role, st, raw[:200]))
        # The base map (api_map.c) is public and the same for everyone, whatever the scope:
        # roads, footprints and area names only, nothing about people or teams
        row("GET", "/api/v1/basemap")
        st, raw = call(s, w, role, "GET", "/api/v1/basemap")
        check(st == 200 and json.loads(raw)["bounds"], "basemap as %s: %d %s" % (role, st, raw))
        row("GET", "/api/v1/basemap/{z}/{x}/{y}")
        st, raw = call(s, w, role, "GET", w.basemap_tile)
        check(st == 200 and json.loads(raw)["features"] and raw == w.basemap_body,
              "tile as %s: %d (the same tile for everyone)" % (role, st))
        for leak in (b"households", b"grade", b"leader", b"members", b"phone"):
            check(leak not in raw, "tile as %s leaks %s" % (role, leak))
        row("POST", "/open311/v2/requests.{format}")
        form = dict(w.sessions[role], **{"Content-Type": "application/x-www-form-urlencoded"})
        st, _, raw = s.request("POST", "/open311/v2/requests.json",
                               b"api_key=whatever-key&service_code=0101&lat=30.27&long=120.16",
                               headers=form)
        check(st == 403 and json.loads(raw)[0]["code"] == 403, "open311 post as %s: %d %s"
              % (role, st, raw[:200]))

        row("POST", "/api/v1/auth/logout")
        st, raw = call(s, w, role, "POST", "/api/v1/auth/logout", spare=True)
        if role == "anonymous":
            expect_refusal(role, "account", st, raw, "logout")
        else:
            check(st == 200 and call(s, w, role, "GET", "/api/v1/auth/me", spare=True)[0] == 401,
                  "logout as %s" % role)
    return covered


def test_matrix():
    with TempDir() as tmp:
        w = World(tmp)
        cfg = os.path.join(tmp, "serve.json")
        json.dump({"login_burst": 100}, open(cfg, "w"))  # 13 logins from one address
        with Server(w.db, "--config", cfg) as s:
            w.start(s)
            covered = run_matrix(s, w)
        _, out, _ = run("serve", "--routes", check=0)
        routes = set(tuple(line.split()) for line in out.strip().splitlines())
        check(routes <= covered, "routes without a row in the access matrix: %s"
              % sorted(routes - covered))


if __name__ == "__main__":
    main([test_matrix])
