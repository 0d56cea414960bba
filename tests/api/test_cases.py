"""The staff API for cases against the real server on loopback: bad input, exactly-once intake,
every list filter, the whole loop over HTTP with three roles, refusals (403 for a role, 409 for
a state or a stale version), photos (JPEG in and out, text refused, too large refused before the
body is read), statistics, scoped listing, the audited contact read, and the case timer
(escalation of an overdue dispute, once, across a restart)."""
import datetime
import json
import os
import socket
import sqlite3
import time
import urllib.parse

from cgserver import ADMIN, Server, add_user, error_of, make_db, read_response
from cgtest import TempDir, check, main

PASSWORD = "Cases-pass-2026!"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + \
    b"\x00" * 64 + b"\xff\xd9"
PHOTO_MAX = 8 << 20
# the fixture (tests/data/api_grids.geojson): district 330106, two streets, four communities,
# eight grids of 0.015 x 0.02 degrees
GRID_1 = "330106001001001"  # 120.100..120.115, 30.22..30.24
GRID_2 = "330106002001001"  # 120.130..120.145, 30.22..30.24
IN_1 = (120.105, 30.23)
IN_2 = (120.135, 30.23)
NOWHERE = (121.5, 31.2)


class Staff:
    """Accounts on the fixture and a bearer session for each, used through one server."""

    def __init__(self, db):
        self.db = db
        self.ids = {
            "operator": add_user(db, "c_operator", PASSWORD, "operator", "330106"),
            "handler": add_user(db, "c_handler", PASSWORD, "handler", "330106"),
            "inspector": add_user(db, "c_inspector", PASSWORD, "inspector", "330106"),
            "worker1": add_user(db, "c_worker1", PASSWORD, "worker", GRID_1),
            "worker2": add_user(db, "c_worker2", PASSWORD, "worker", GRID_2),
        }

    def login(self, s):
        self.s, self.h = s, {}
        check(s.login(*ADMIN)[0] == 200, "admin login")
        self.h["admin"] = dict(s.headers)
        for role in self.ids:
            check(s.login("c_" + role, PASSWORD)[0] == 200, "login " + role)
            self.h[role] = dict(s.headers)
        s.headers = {}

    def req(self, who, method, path, body=None, headers=None):
        h = dict(self.h[who])
        h.update(headers or {})
        st, hdr, raw = self.s.request(method, path, body, headers=h)
        return st, hdr, raw

    def json(self, who, method, path, body=None, headers=None):
        st, _, raw = self.req(who, method, path, body, headers)
        return st, json.loads(raw)

    def create(self, who, at=IN_1, category="0101", description="garbage", **extra):
        body = {"category": category, "description": description, "lon": at[0], "lat": at[1]}
        body.update(extra)
        st, doc = self.json(who, "POST", "/api/v1/cases", body)
        check(st == 201, "create as %s: %d %s" % (who, st, doc))
        return doc["case"]

    def step(self, who, case_id, action, want=200, **extra):
        body = {"action": action}
        body.update(extra)
        st, doc = self.json(who, "POST", "/api/v1/cases/%d/transitions" % case_id, body)
        check(st == want, "%s by %s: %d %s" % (action, who, st, doc))
        return doc


def ids_of(doc):
    return [c["id"] for c in doc["cases"]]


def test_bad_input_and_no_grid_queue():
    with TempDir() as tmp:
        db = make_db(tmp)
        staff = Staff(db)
        with Server(db) as s:
            staff.login(s)
            base = {"category": "0101", "description": "x", "lon": IN_1[0], "lat": IN_1[1]}
            for body, field in ((dict(base, category="9999"), "category"),
                                (dict(base, category="01"), "category"),  # a group
                                (dict(base, description="x" * 4001), "description"),
                                (dict(base, description=""), "description"),
                                (dict(base, lon=200), "lon"),
                                (dict(base, source="carrier pigeon"), "source"),
                                (dict(base, priority=7), "priority"),
                                (dict(base, colour="red"), "colour")):
                st, _, raw = staff.req("operator", "POST", "/api/v1/cases", body)
                # too long is a size limit (413), the rest is invalid (400); each names the field
                want = (413, "too_large") if len(body["description"]) > 4000 else (400, "invalid")
                check(st == want[0] and error_of(raw) == (want[1], field),
                      "%s: %d %s" % (field, st, raw))
            st, _, raw = staff.req("operator", "POST", "/api/v1/cases", b'{"category": "0101",')
            check(st == 400 and error_of(raw)[0] == "invalid", raw)
            st, _, raw = staff.req("operator", "POST", "/api/v1/cases", b"[1, 2]")
            check(st == 400 and error_of(raw)[0] == "invalid", raw)
            # exactly 4000 characters (not bytes: Chinese takes 3 bytes each) is fine
            staff.create("operator", description="井" * 4000)

            # a point in no grid is accepted into the no-grid queue: the unrestricted
            # administrator sees it, an operator scoped to the district does not
            case = staff.create("admin", at=NOWHERE, description="outside every grid")
            check(case["grid"] is None and case["state"] == "reported", case)
            st, doc = staff.json("admin", "GET", "/api/v1/cases?no_grid=true")
            check(st == 200 and ids_of(doc) == [case["id"]], doc)
            st, doc = staff.json("admin", "GET", "/api/v1/cases/%d" % case["id"])
            check(st == 200 and doc["case"]["id"] == case["id"] and
                  "register" in doc["actions"], doc)
            st, doc = staff.json("operator", "GET", "/api/v1/cases/%d" % case["id"])
            check(st == 404, "scoped operator reads the no-grid case: %d" % st)
            st, doc = staff.json("operator", "GET", "/api/v1/cases?limit=500")
            check(case["id"] not in ids_of(doc), "scoped operator lists the no-grid case")
            # a scoped operator cannot report in no grid either (outside its scope)
            st, _, raw = staff.req("operator", "POST", "/api/v1/cases",
                                   dict(base, lon=NOWHERE[0], lat=NOWHERE[1]))
            check(st == 400 and error_of(raw) == ("invalid", "location"), raw)


def test_idempotent_retry():
    with TempDir() as tmp:
        db = make_db(tmp)
        staff = Staff(db)
        with Server(db) as s:
            staff.login(s)
            body = {"category": "0101", "description": "retry me", "lon": IN_1[0],
                    "lat": IN_1[1]}
            key = {"Idempotency-Key": "field-app-7f3a"}
            st, first = staff.json("worker1", "POST", "/api/v1/cases", body, key)
            check(st == 201 and first["replayed"] is False, first)
            st, again = staff.json("worker1", "POST", "/api/v1/cases", body, key)
            check(st == 200 and again["replayed"] is True and
                  again["case"]["id"] == first["case"]["id"], again)
            check(first["case"]["id"] not in again["duplicates"],
                  "a replay is not its own duplicate: %s" % again["duplicates"])
            # keys are per account: another account's same key is another report
            st, other = staff.json("operator", "POST", "/api/v1/cases", body, key)
            check(st == 201 and other["case"]["id"] != first["case"]["id"], other)
            st, doc = staff.json("admin", "GET", "/api/v1/cases?q=retry")
            check(doc["total"] == 2, "two cases, not three: %s" % ids_of(doc))
            # and the second report nearby is a duplicate candidate of the first
            check(first["case"]["id"] in other["duplicates"], other)
            st, _, raw = staff.req("worker1", "POST", "/api/v1/cases", body,
                                   {"Idempotency-Key": "x" * 129})
            check(st == 400 and error_of(raw) == ("invalid", "Idempotency-Key"), raw)


def test_list_filters():
    with TempDir() as tmp:
        db = make_db(tmp)
        staff = Staff(db)
        with Server(db) as s:
            staff.login(s)
            t0 = int(time.time())
            a = staff.create("worker1", at=IN_1, category="0101", description="垃圾 by the gate")
            b = staff.create("worker2", at=IN_2, category="0202", description="street light dark",
                             address="和港路 12号")
            c = staff.create("operator", at=IN_2, category="0601", description="noisy neighbours",
                             source="hotline")
            staff.step("operator", c["id"], "register")
            staff.step("operator", c["id"], "dispatch",
                       assignee={"kind": "account", "account_id": staff.ids["handler"],
                                 "label": "c_handler"})

            def listed(query, who="admin"):
                query = urllib.parse.quote(query, safe="=&,:%")
                st, doc = staff.json(who, "GET", "/api/v1/cases?" + query)
                check(st == 200, "%s: %d %s" % (query, st, doc))
                return sorted(ids_of(doc)), doc

            all3 = sorted([a["id"], b["id"], c["id"]])
            check(listed("")[0] == all3, "no filter")
            check(listed("state=reported")[0] == sorted([a["id"], b["id"]]), "state")
            check(listed("state=registered,dispatched")[0] == [c["id"]], "states")
            check(listed("category=02")[0] == [b["id"]], "category group")
            check(listed("category=0601")[0] == [c["id"]], "category")
            check(listed("grid=330106002")[0] == sorted([b["id"], c["id"]]), "grid subtree")
            check(listed("grid=%s" % GRID_1)[0] == [a["id"]], "grid")
            check(listed("no_grid=true")[0] == [], "no grid")
            check(listed("overdue=true")[0] == [], "nothing is overdue yet")
            check(listed("source=hotline")[0] == [c["id"]], "source")
            check(listed("source=worker")[0] == sorted([a["id"], b["id"]]), "source worker")
            check(listed("since=%d" % (t0 - 5))[0] == all3, "since unix")
            check(listed("since=%d" % (t0 + 3600))[0] == [], "since later")
            check(listed("until=2020-01-01")[0] == [], "until ISO date")
            check(listed("since=2020-01-01T00:00:00%2B08:00")[0] == all3, "since ISO time")
            check(listed("bbox=120.1,30.2,120.13,30.24")[0] == [a["id"]], "bbox")
            check(listed("q=light")[0] == [b["id"]], "full text, description")
            check(listed("q=和港路")[0] == [b["id"]], "full text, address")
            check(listed("q=%22OR%201%3D1")[0] == [], "search text is words, not syntax")
            check(listed("assignee=me", "handler")[0] == [c["id"]], "assignee=me")
            check(listed("assignee=%d" % staff.ids["handler"])[0] == [c["id"]], "assignee id")
            check(listed("reporter=me", "worker1")[0] == [a["id"]], "reporter=me")
            ids, doc = listed("order=id&limit=2")
            check([x["id"] for x in doc["cases"]] == all3[:2] and doc["total"] == 3 and
                  doc["limit"] == 2, doc)
            _, doc = listed("order=id&limit=2&offset=2")
            check([x["id"] for x in doc["cases"]] == all3[2:], doc)
            _, doc = listed("order=newest")
            check([x["id"] for x in doc["cases"]] == sorted(all3, reverse=True), "newest")
            for query, field in (("state=lost", "state"), ("limit=501", "limit"),
                                 ("since=yesterday", "since"), ("order=random", "order"),
                                 ("bbox=1,2,3", "bbox"), ("no_grid=maybe", "no_grid"),
                                 ("colour=red", "colour"), ("reporter=5", "reporter")):
                st, _, raw = staff.req("admin", "GET", "/api/v1/cases?" + query)
                check(st == 400 and error_of(raw) == ("invalid", field),
                      "%s: %d %s" % (query, st, raw))


def test_loop_refusals_and_stats():
    with TempDir() as tmp:
        db = make_db(tmp)
        staff = Staff(db)
        with Server(db) as s:
            staff.login(s)
            case = staff.create("worker1", description="overflowing bin", category="0104")
            cid = case["id"]
            st, doc = staff.json("operator", "GET", "/api/v1/cases/%d" % cid)
            check(doc["actions"] == ["register", "reject", "mark_duplicate"] or
                  {"register", "reject"} <= set(doc["actions"]), doc["actions"])
            # a handler may not register (the state machine's table): 403 naming roles
            st, doc = staff.json("handler", "POST", "/api/v1/cases/%d/transitions" % cid,
                                 {"action": "register"})
            check(st == 403 and doc["error"]["field"] == "roles", doc)
            doc = staff.step("operator", cid, "register", note="confirmed on camera")
            check(doc["case"]["state"] == "registered", doc)
            st, sug = staff.json("operator", "GET", "/api/v1/cases/%d/suggestions" % cid)
            check(st == 200 and sug["suggestions"], sug)
            handler = {"kind": "account", "account_id": staff.ids["handler"],
                       "label": "c_handler"}
            version = doc["case"]["version"]
            doc = staff.step("operator", cid, "dispatch", assignee=handler, version=version)
            check(doc["case"]["state"] == "dispatched" and
                  doc["case"]["assignee"]["account_id"] == staff.ids["handler"], doc)
            # a stale version is a conflict, and so is a step the state does not allow
            staff.step("operator", cid, "suspend", want=409, version=version)
            doc = staff.step("operator", cid, "close", want=409)
            check(doc["error"]["field"] == "state", doc)
            staff.step("handler", cid, "accept")
            st, doc = staff.json("handler", "GET", "/api/v1/cases/%d" % cid)
            check("handle" in doc["actions"] and "close" not in doc["actions"], doc["actions"])
            doc = staff.step("handler", cid, "handle", note="emptied")
            check(doc["case"]["state"] == "handled", doc)
            staff.step("worker1", cid, "close", want=403)
            staff.step("operator", cid, "close", note="verified on site")
            staff.step("inspector", cid, "close", want=409)
            doc = staff.step("inspector", cid, "evaluate", evaluation=5)
            check(doc["case"]["state"] == "evaluated" and doc["case"]["evaluation"] == 5, doc)
            st, doc = staff.json("inspector", "GET", "/api/v1/cases/%d" % cid)
            steps = [e["action"] for e in doc["history"] if not e["note_only"]]
            check(steps == ["report", "register", "dispatch", "accept", "handle", "close",
                            "evaluate"], steps)
            actors = [e["actor"]["name"] for e in doc["history"] if not e["note_only"]]
            check(actors == ["c_worker1", "c_operator", "c_operator", "c_handler", "c_handler",
                             "c_operator", "c_inspector"], actors)
            check(doc["case"]["closed_at"] and doc["case"]["overdue"] is False, doc["case"])
            st, _, raw = staff.req("operator", "POST", "/api/v1/cases/%d/transitions" % cid,
                                   {"action": "fly"})
            check(st == 400 and error_of(raw) == ("invalid", "action"), raw)
            st, _, raw = staff.req("operator", "POST", "/api/v1/cases/424242/transitions",
                                   {"action": "register"})
            check(st == 404, raw)

            # statistics: this category registered, dispatched and closed one case on time
            st, stats = staff.json("operator", "GET", "/api/v1/stats/cases?group=category")
            row = [r for r in stats["rows"] if r["key"] == "0104"]
            check(st == 200 and len(row) == 1, stats)
            r = row[0]
            check((r["reported"], r["registered"], r["dispatched"], r["closed"],
                   r["closed_on_time"]) == (1, 1, 1, 1, 1) and r["close_rate"] == 1.0 and
                  r["on_time_rate"] == 1.0 and r["return_rate"] == 0.0, r)
            st, stats = staff.json("operator", "GET",
                                   "/api/v1/stats/cases?group=grid&level=community")
            check(st == 200 and [r["key"] for r in stats["rows"]] == ["330106001001"], stats)
            st, stats = staff.json("operator", "GET", "/api/v1/stats/cases?since=2020-01-01"
                                   "&until=2020-02-01")
            check(st == 200 and stats["rows"] == [], stats)
            st, _, raw = staff.req("operator", "GET", "/api/v1/stats/cases?group=colour")
            check(st == 400 and error_of(raw) == ("invalid", "group"), raw)
            st, _, raw = staff.req("worker1", "GET", "/api/v1/stats/cases")
            check(st == 403, raw)


def test_photos():
    with TempDir() as tmp:
        db = make_db(tmp)
        staff = Staff(db)
        with Server(db) as s:
            staff.login(s)
            cid = staff.create("worker1")["id"]
            path = "/api/v1/cases/%d/photos" % cid
            st, doc = staff.json("worker1", "POST", path, JPEG, {"Content-Type": "image/jpeg"})
            check(st == 201 and doc["mime"] == "image/jpeg" and len(doc["sha256"]) == 64, doc)
            st, hdr, raw = staff.req("worker1", "GET", doc["url"])
            check(st == 200 and raw == JPEG and hdr["Content-Type"] == "image/jpeg", (st, hdr))
            st, case = staff.json("worker1", "GET", "/api/v1/cases/%d" % cid)
            check(case["case"]["photos"] == 1 and case["photos"][0]["sha256"] == doc["sha256"],
                  case)
            files = [f for _, _, fs in os.walk(db + ".photos") for f in fs]
            check(doc["sha256"] in files, "content-addressed file on disk: %s" % files)
            # text is not an image, whatever it claims to be
            st, _, raw = staff.req("worker1", "POST", path, b"hello, not a photo",
                                   {"Content-Type": "image/jpeg"})
            check(st == 400 and error_of(raw) == ("invalid", "photo"), raw)
            # larger than the server's 1 MiB body limit but within the photo limit: accepted
            big = JPEG[:-2] + b"\x00" * (3 << 20) + b"\xff\xd9"
            st, doc = staff.json("worker1", "POST", path, big, {"Content-Type": "image/jpeg"})
            check(st == 201 and doc["bytes"] == len(big), doc)
            # over the photo limit, or a caller who may not use the route: refused from the
            # headers alone, before any of the body is sent
            # (and a body of the size just accepted is too large for any other route)
            worker = staff.h["worker1"]["Authorization"]
            for target, auth, length, want in ((path, worker, PHOTO_MAX + 1, 413),
                                               (path, None, 6 << 20, 401),
                                               ("/api/v1/cases", worker, len(big), 413)):
                head = "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n" % target
                head += "Content-Length: %d\r\n" % length
                head += ("Authorization: %s\r\n" % auth) if auth else ""
                with socket.create_connection(("127.0.0.1", s.port), timeout=10) as sock:
                    sock.sendall((head + "\r\n").encode())
                    st, _, raw = read_response(sock)
                check(st == want and error_of(raw)[0] in ("too_large", "unauthenticated"),
                      "%d-byte upload: %d %s" % (length, st, raw[:200]))
            st, _, raw = staff.req("worker2", "GET", "/api/v1/cases/%d/photos/%s" %
                                   (cid, doc["sha256"]))
            check(st == 404, "a photo of a case outside the scope: %d" % st)
            st, _, raw = staff.req("worker1", "GET", "/api/v1/cases/%d/photos/%s" %
                                   (cid, "0" * 64))
            check(st == 404, raw)


def test_scope_and_contact():
    with TempDir() as tmp:
        db = make_db(tmp)
        staff = Staff(db)
        with Server(db) as s:
            staff.login(s)
            one = staff.create("operator", at=IN_1, contact="13900001111", source="hotline")
            two = staff.create("operator", at=IN_2, contact="13900002222", source="hotline")
            check(one["has_contact"] and "13900001111" not in json.dumps(one), one)
            st, doc = staff.json("worker1", "GET", "/api/v1/cases")
            check(ids_of(doc) == [one["id"]] and doc["total"] == 1, doc)
            st, doc = staff.json("worker2", "GET", "/api/v1/cases")
            check(ids_of(doc) == [two["id"]] and doc["total"] == 1, doc)
            st, out = staff.req("worker1", "GET", "/api/v1/cases/%d" % two["id"])[::2]
            st2, miss = staff.req("worker1", "GET", "/api/v1/cases/987654")[::2]
            check(st == st2 == 404 and
                  out.replace(str(two["id"]).encode(), b"@") ==
                  miss.replace(b"987654", b"@"), (out, miss))
            check(staff.req("worker1", "GET", "/api/v1/cases/%d/contact" % one["id"])[0] == 403,
                  "workers do not read contacts")
            st, doc = staff.json("handler", "GET", "/api/v1/cases/%d/contact" % one["id"])
            check(st == 200 and doc["contact"] == "13900001111", doc)
            st, audit = staff.json("admin", "GET", "/api/v1/audit?action=contact.read")
            reads = [e for e in audit["entries"] if e["target"].endswith(":%d" % one["id"])]
            check(st == 200 and len(reads) == 1 and reads[0]["actor"] == "c_handler", audit)
            check(not any(e["target"].endswith(":%d" % two["id"]) for e in audit["entries"]),
                  "only the read contact is audited")
            # contacts never show in lists or case answers
            for who in ("admin", "operator"):
                _, _, raw = staff.req(who, "GET", "/api/v1/cases?limit=500")
                check(b"13900001111" not in raw and b"13900002222" not in raw, raw[:300])
                _, _, raw = staff.req(who, "GET", "/api/v1/cases/%d" % one["id"])
                check(b"13900001111" not in raw, raw[:300])


def test_rules_routes():
    with TempDir() as tmp:
        db = make_db(tmp)
        staff = Staff(db)
        with Server(db) as s:
            staff.login(s)
            st, tax = staff.json("worker1", "GET", "/api/v1/categories")
            check(st == 200 and any(c["code"] == "0601" for c in tax["categories"]), tax)
            # a new sub-category is usable at once
            tax["categories"].append({
                "code": "0703", "parent": "07", "name_zh": "共享单车乱停", "name_en":
                "Shared bicycles blocking the way", "kind": "event", "limit": 1,
                "unit": "working_days", "department": "城管执法中队", "register": "seen",
                "close": "cleared"})
            st, _, raw = staff.req("operator", "PUT", "/api/v1/categories", tax)
            check(st == 403, raw)
            st, doc = staff.json("admin", "PUT", "/api/v1/categories", tax)
            check(st == 200 and any(c["code"] == "0703" for c in doc["categories"]), doc)
            case = staff.create("worker1", category="0703", description="bikes")
            check(case["category_name"]["en"] == "Shared bicycles blocking the way", case)
            bad = dict(tax, categories=tax["categories"] + [{"code": "0704", "parent": "07"}])
            st, _, raw = staff.req("admin", "PUT", "/api/v1/categories", bad)
            check(st == 400 and error_of(raw)[1].startswith("categories["), raw)
            # the calendar
            year = {"year": 2031, "holidays": ["2031-10-01", "2031-10-02"],
                    "workdays": ["2031-09-28"], "source": "test"}
            st, doc = staff.json("admin", "PUT", "/api/v1/calendar/2031", year)
            check(st == 200 and doc["imported"] and doc["holidays"] == year["holidays"] and
                  doc["workdays"] == year["workdays"] and doc["source"] == "test", doc)
            st, doc = staff.json("worker1", "GET", "/api/v1/calendar/2031")
            check(st == 200 and doc["holidays"] == year["holidays"], doc)
            st, _, raw = staff.req("admin", "PUT", "/api/v1/calendar/2032", year)
            check(st == 400 and error_of(raw) == ("invalid", "year"), raw)
            st, _, raw = staff.req("admin", "PUT", "/api/v1/calendar/2031",
                                   dict(year, workdays=["2031-09-29"]))  # a Monday
            check(st == 400 and error_of(raw)[1].startswith("workdays"), raw)
            check(staff.req("worker1", "GET", "/api/v1/calendar/1999")[0] == 404, "1999")
            check(staff.req("worker1", "PUT", "/api/v1/calendar/2031", year)[0] == 403, "put")


DAY = 86400
TIME_COLUMNS = ("reported_at", "registered_at", "dispatched_at", "updated_at", "register_by",
                "dispatch_by", "handle_by", "due_at", "suspended_at")


def age_case(db, case_id, days):
    """Moves a case's times `days` into the past, as if it had been dispatched then (the server
    is stopped while this runs)."""
    con = sqlite3.connect(db)
    sets = ", ".join("%s = CASE WHEN %s > 0 THEN %s - ? ELSE 0 END" % (c, c, c)
                     for c in TIME_COLUMNS)
    con.execute("UPDATE cases SET %s WHERE id = ?" % sets,
                [days * DAY] * len(TIME_COLUMNS) + [case_id])
    con.execute("UPDATE case_events SET at = at - ? WHERE case_id = ?", (days * DAY, case_id))
    con.commit()
    con.close()


def wait_state(staff, case_id, state, timeout=30):
    """Polls the API (bounded) until the case is in `state`; returns the case detail."""
    deadline = time.monotonic() + timeout
    while True:
        st, doc = staff.json("admin", "GET", "/api/v1/cases/%d" % case_id)
        if st == 200 and doc["case"]["state"] == state:
            return doc
        if time.monotonic() > deadline:
            raise AssertionError("case %d never became %s: %s" % (case_id, state, doc))
        time.sleep(0.1)


def dispatched_dispute(staff, at):
    case = staff.create("operator", at=at, category="0601", description="neighbours quarrel")
    staff.step("operator", case["id"], "register")
    staff.step("operator", case["id"], "dispatch",
               assignee={"kind": "grid", "label": case["grid"]})
    return case["id"]


def timer_setup(tmp):
    """A database, its staff, and a server config whose case timer runs every second."""
    db = make_db(tmp)
    config = os.path.join(tmp, "serve.json")
    json.dump({"case_timer_seconds": 1}, open(config, "w"))
    return db, Staff(db), config


def test_timer_escalates_once_across_restarts():
    with TempDir() as tmp:
        db, staff, config = timer_setup(tmp)
        with Server(db, "--config", config) as s:
            staff.login(s)
            first = dispatched_dispute(staff, IN_1)
            second = dispatched_dispute(staff, IN_2)
            fresh = dispatched_dispute(staff, IN_1)  # not overdue: never escalates
        age_case(db, first, 40)
        s = Server(db, "--config", config)
        with s:
            staff.login(s)
            doc = wait_state(staff, first, "escalated")
            check(doc["case"]["tier"] == "community" and
                  doc["case"]["assignee"]["label"] == "330106001001", doc["case"])
            esc = [e for e in doc["history"] if e["action"] == "escalate"]
            check(len(esc) == 1 and esc[0]["actor"]["id"] == 0, esc)
        check("case timer: escalated 1" in s.stderr, s.stderr[-2000:])
        # a restart: the timer runs again at once (proved by the second dispute, aged now,
        # escalating) and leaves the first one alone
        age_case(db, second, 40)
        with Server(db, "--config", config) as s:
            staff.login(s)
            wait_state(staff, second, "escalated")
            st, doc = staff.json("admin", "GET", "/api/v1/cases/%d" % first)
            esc = [e for e in doc["history"] if e["action"] == "escalate"]
            check(len(esc) == 1 and doc["case"]["tier"] == "community", doc)
            st, doc = staff.json("admin", "GET", "/api/v1/cases/%d" % fresh)
            check(doc["case"]["state"] == "dispatched", doc["case"])


def instant(iso):
    return datetime.datetime.fromisoformat(iso).timestamp()


def test_suspend_stops_clock():
    """挂账 over HTTP: a dispute suspended right after dispatch and left suspended for six weeks
    (its times moved into the past while the server is stopped) is neither overdue nor escalated
    by the timer, and once resumed its handling deadline has moved on by the working time it was
    suspended: it is not overdue, and the timer leaves it alone afterwards too."""
    with TempDir() as tmp:
        db, staff, config = timer_setup(tmp)
        with Server(db, "--config", config) as s:
            staff.login(s)
            parked = dispatched_dispute(staff, IN_1)
            doc = staff.step("operator", parked, "suspend", note="等待法院判决")
            check(doc["case"]["state"] == "suspended" and doc["case"]["due_at"] is None and
                  doc["case"]["suspended_at"] and doc["case"]["suspended_s"] == 0, doc["case"])
            control = dispatched_dispute(staff, IN_2)  # aged too: proves a timer pass ran
            later = dispatched_dispute(staff, IN_2)    # aged after the resume, for a second pass
        age_case(db, parked, 42)
        age_case(db, control, 42)
        with Server(db, "--config", config) as s:
            staff.login(s)
            wait_state(staff, control, "escalated")
            st, doc = staff.json("admin", "GET", "/api/v1/cases/%d" % parked)
            case = doc["case"]
            check(case["state"] == "suspended" and case["tier"] == "grid", case)
            check(case["overdue"] is False and case["due_at"] is None, case)
            old_handle_by = instant(case["deadlines"]["handle_by"])
            check(old_handle_by < time.time() - 20 * DAY, case)  # long past, had the clock run
            st, listed = staff.json("admin", "GET", "/api/v1/cases?overdue=true")
            check(parked not in ids_of(listed), listed)

            doc = staff.step("operator", parked, "resume")
            case = doc["case"]
            check(case["state"] == "dispatched" and case["suspended_at"] is None, case)
            check(case["overdue"] is False and case["remaining_s"] > 0, case)
            handle_by = instant(case["deadlines"]["handle_by"])
            check(handle_by > time.time() and case["due_at"] == case["deadlines"]["handle_by"],
                  case)
            # six weeks hold at least 20 working days of 7.5 h; the deadline gives back at most
            # what was left at suspension (the rest of that day and 5 working days)
            check(case["suspended_s"] >= 20 * 27000, case)
            check(case["remaining_s"] <= 6 * 27000, case)
            st, doc = staff.json("admin", "GET", "/api/v1/cases/%d" % parked)
            resumes = [e for e in doc["history"] if e["action"] == "resume"]
            check(len(resumes) == 1 and
                  resumes[0]["detail"] == {"suspended_s": case["suspended_s"]}, resumes)
            check(doc["case"]["deadlines"]["handle_by"] == case["deadlines"]["handle_by"], doc)
        age_case(db, later, 42)
        with Server(db, "--config", config) as s:
            staff.login(s)
            wait_state(staff, later, "escalated")
            st, doc = staff.json("admin", "GET", "/api/v1/cases/%d" % parked)
            check(doc["case"]["state"] == "dispatched" and doc["case"]["tier"] == "grid" and
                  doc["case"]["overdue"] is False, doc["case"])


def test_timer_setting_validated():
    from cgtest import run
    with TempDir() as tmp:
        db = make_db(tmp)
        config = os.path.join(tmp, "bad.json")
        for key, bad in [("case_timer_seconds", v) for v in (-1, 86401, "soon")] + \
                        [("case_rows_mb", v) for v in (-1, (1 << 20) + 1, "lots")]:
            json.dump({key: bad}, open(config, "w"))
            code, _, err = run("serve", "--db", db, "--config", config, "--port", "0")
            check(code == 2 and key in err, "%s %r: exit %d: %s" % (key, bad, code, err))
        code, _, err = run("serve", "--db", db, "--case-rows-mb", "-5", "--port", "0")
        check(code == 2 and "case_rows_mb" in err, "exit %d: %s" % (code, err))


if __name__ == "__main__":
    main([test_bad_input_and_no_grid_queue, test_idempotent_retry, test_list_filters,
          test_loop_refusals_and_stats, test_photos, test_scope_and_contact,
          test_rules_routes, test_timer_escalates_once_across_restarts,
          test_suspend_stops_clock, test_timer_setting_validated])
