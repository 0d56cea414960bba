"""Open311 GeoReport v2 against the real server on loopback: every endpoint in XML and JSON, JSON
answers validated with ajv against ../shared/data/open311-schemas (tests/open311/validate.mjs),
the spec's errors and statuses, the api_key refusal, idempotent retries, contact details never
in a public answer, and the closed loop the cases issue asks for: a resident's report over
Open311 (XML and JSON) reaches the operator's queue in the staff API, is registered, dispatched,
accepted, handled and closed there, and Open311 then shows it closed with its times."""
import json
import os
import subprocess
import tempfile
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

from cgserver import ADMIN, Server, make_db
from cgtest import SHARED, TempDir, check, main

KEY = "test-key-0001"
JURISDICTION = "civgrid.test"
EMAIL = "li.wei.resident@example.cn"
PHONE = "13912345678"
FIRST, LAST = "Weiresident", "Lisurname"
SECRETS = (EMAIL.encode(), PHONE.encode(), FIRST.encode(), LAST.encode())
TZ = timezone(timedelta(hours=8))
SRC = os.environ.get("CIVGRID_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SCHEMAS = os.path.join(SHARED or os.path.join(SRC, "..", "shared", "data"), "open311-schemas")
VALIDATE = os.path.join(SRC, "tests", "open311", "validate.mjs")
# A 1x1 PNG.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
# Inside grid 330106001001001 of tests/data/api_grids.geojson; far from every grid.
INSIDE = (30.225, 120.107)
OUTSIDE = (31.9, 118.8)

# JSON answers to validate at the end of each test, by schema.
to_validate = []


def config(tmp, **extra):
    path = os.path.join(tmp, "serve-%s.json" % uuid.uuid4().hex[:6])
    cfg = {"open311_api_keys": KEY + ",other-key-02", "open311_jurisdiction": JURISDICTION,
           "open311_contact": "civgrid test desk", "public_rate": 100000, "public_burst": 100000}
    cfg.update(extra)
    json.dump(cfg, open(path, "w"))
    return path


def public(body):
    """Every public answer: never a contact detail."""
    for secret in SECRETS:
        check(secret not in body, "a public answer holds %s: %s" % (secret, body[:300]))
    return body


def get(s, path, want=200):
    st, hdr, body = s.request("GET", path, headers={"Authorization": ""})
    check(st == want, "GET %s: %d (wanted %d) %s" % (path, st, want, body[:300]))
    if path.split("?")[0].endswith(".json"):
        check(hdr["Content-Type"].startswith("application/json"), hdr["Content-Type"])
    elif path.split("?")[0].endswith(".xml"):
        check(hdr["Content-Type"].startswith("text/xml"), hdr["Content-Type"])
        check(body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>'), body[:60])
    return public(body)


def get_json(s, path, schema=None, want=200):
    doc = json.loads(get(s, path, want))
    if schema:
        to_validate.append((schema, doc))
    return doc


def get_xml(s, path, want=200):
    return ET.fromstring(get(s, path, want))


def multipart(fields, files):
    boundary = "----cg" + uuid.uuid4().hex
    out = b""
    for k, v in fields.items():
        out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                % (boundary, k, v)).encode()
    for k, (name, ctype, data) in files.items():
        out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                "Content-Type: %s\r\n\r\n" % (boundary, k, name, ctype)).encode() + data + b"\r\n"
    out += ("--%s--\r\n" % boundary).encode()
    return "multipart/form-data; boundary=" + boundary, out


def post(s, fields, fmt="json", files=None, headers=None, raw=None, ctype=None):
    """POST requests.<fmt>; returns (status, body bytes)."""
    if raw is not None:
        body = raw
    elif files:
        ctype, body = multipart(fields, files)
    else:
        from urllib.parse import urlencode
        body = urlencode(fields).encode()
    h = {"Content-Type": ctype or "application/x-www-form-urlencoded; charset=utf-8",
         "Authorization": ""}
    h.update(headers or {})
    st, _, out = s.request("POST", "/open311/v2/requests.%s" % fmt, body, headers=h)
    return st, public(out)


def report(**extra):
    fields = {"api_key": KEY, "jurisdiction_id": JURISDICTION, "service_code": "0101",
              "lat": INSIDE[0], "long": INSIDE[1], "description": "Garbage heap by the gate",
              "email": EMAIL, "phone": PHONE, "first_name": FIRST, "last_name": LAST}
    fields.update(extra)
    return {k: v for k, v in fields.items() if v is not None}


def created(s, fields, fmt="json", **kw):
    """Posts and returns (service_request_id, token)."""
    st, body = post(s, fields, fmt, **kw)
    check(st == 200, "POST requests.%s: %d %s" % (fmt, st, body[:300]))
    if fmt == "json":
        doc = json.loads(body)
        check(len(doc) == 1 and doc[0]["account_id"] is None and doc[0]["service_notice"], doc)
        return doc[0]["service_request_id"], doc[0]["token"]
    root = ET.fromstring(body)
    check(root.tag == "service_requests", body)
    r = root.find("request")
    check(r.find("account_id") is not None and r.find("account_id").text is None, body)
    return r.findtext("service_request_id"), r.findtext("token")


def errors_of(body, fmt):
    """The spec's error list as [(code, description)]."""
    if fmt == "json":
        return [(e["code"], e["description"]) for e in json.loads(body)]
    root = ET.fromstring(body)
    check(root.tag == "errors", body)
    return [(int(e.findtext("code")), e.findtext("description")) for e in root.findall("error")]


def refused(st, body, fmt, status, word):
    errs = errors_of(body, fmt)
    check(st == status and len(errs) == 1 and errs[0][0] == status and word in errs[0][1],
          "wanted %d naming %r, got %d %s" % (status, word, st, errs))


def validate_all():
    """Runs ajv over every JSON answer collected, one node process per schema."""
    global to_validate
    batch, to_validate = to_validate, []
    if not os.path.isdir(SCHEMAS):
        print("skip: ajv validation (no %s; the other checks ran)" % SCHEMAS)
        return
    check(os.path.isdir(os.path.join(SRC, "tests", "open311", "node_modules", "ajv")),
          "ajv is not installed in tests/open311 (run scripts/setup, which runs npm ci there)")
    by_schema = {}
    for schema, doc in batch:
        by_schema.setdefault(schema, []).append(doc)
    with tempfile.TemporaryDirectory() as tmp:
        for schema, docs in by_schema.items():
            files = []
            for i, doc in enumerate(docs):
                path = os.path.join(tmp, "%s-%d.json" % (schema.split(".")[0], i))
                json.dump(doc, open(path, "w"))
                files.append(path)
            p = subprocess.run(["node", VALIDATE, os.path.join(SCHEMAS, schema)] + files,
                               capture_output=True, text=True, timeout=120)
            check(p.returncode == 0, "ajv against %s:\n%s%s" % (schema, p.stdout[-3000:],
                                                                 p.stderr[-2000:]))
            check(p.stdout.count("valid   ") == len(files), p.stdout)


def staff(s, method, path, body=None, want=200):
    st, _, raw = s.request(method, path, body)
    check(st == want, "%s %s: %d %s" % (method, path, st, raw[:400]))
    return json.loads(raw) if raw else None


def test_discovery_and_services():
    with TempDir() as tmp, Server(make_db(tmp), "--config", config(tmp)) as s:
        doc = get_json(s, "/open311/v2/discovery.json")
        ep = doc["endpoints"][0]
        check(ep["url"] == "%s/open311/v2" % s.base and "text/xml" in ep["formats"] and
              "application/json" in ep["formats"] and doc["contact"] == "civgrid test desk", doc)
        root = get_xml(s, "/open311/v2/discovery.xml")
        check(root.tag == "discovery" and root.findtext("endpoints/endpoint/url") == ep["url"],
              ET.tostring(root))

        services = get_json(s, "/open311/v2/services.json", "services.json")
        codes = [x["service_code"] for x in services]
        check("0101" in codes and "01" not in codes and len(codes) >= 20, codes)
        garbage = services[codes.index("0101")]
        check(garbage["service_name"] == "暴露垃圾" and garbage["group"] == "市容环境" and
              garbage["type"] == "realtime" and garbage["metadata"] is False and
              "Exposed garbage" in garbage["keywords"], garbage)
        en = get_json(s, "/open311/v2/services.json?lang=en&jurisdiction_id=" + JURISDICTION,
                      "services.json")
        check(en[codes.index("0101")]["service_name"] == "Exposed garbage", en[0])
        root = get_xml(s, "/open311/v2/services.xml")
        check(root.tag == "services" and
              [x.findtext("service_code") for x in root.findall("service")] == codes and
              root.find("service/metadata").text == "false", ET.tostring(root)[:300])

        d = get_json(s, "/open311/v2/services/0101.json", "service-definition.json")
        attrs = {a["code"]: a for a in d["attributes"]}
        check(d["service_code"] == "0101" and "handling_time" in attrs and
              "department" in attrs and attrs["department"]["description"] == "环卫所" and
              all(a["variable"] is False and a["required"] is False for a in d["attributes"]), d)
        check("1" in attrs["handling_time"]["description"], attrs["handling_time"])
        root = get_xml(s, "/open311/v2/services/0101.xml")
        check(root.tag == "service_definition" and
              len(root.findall("attributes/attribute")) == len(d["attributes"]),
              ET.tostring(root)[:300])

        # errors: the spec's lists with 404 for what does not exist, 400 for bad input
        for fmt in ("json", "xml"):
            for path, status, word in (
                    ("/open311/v2/services/01.%s", 404, "group"),
                    ("/open311/v2/services/9999.%s", 404, "service_code"),
                    ("/open311/v2/services.%s?jurisdiction_id=elsewhere.org", 404,
                     "jurisdiction_id"),
                    ("/open311/v2/services.%s?colour=red", 400, "colour"),
                    ("/open311/v2/services.%s?lang=fr", 400, "lang")):
                st, _, body = s.request("GET", path % fmt)
                refused(st, public(body), fmt, status, word)
        st, hdr, body = s.request("GET", "/open311/v2/services.html")
        refused(st, body, "xml", 400, "format")
        validate_all()


def test_post_errors():
    with TempDir() as tmp, Server(make_db(tmp), "--config", config(tmp)) as s:
        for fmt in ("json", "xml"):
            st, body = post(s, report(api_key=None), fmt)
            refused(st, body, fmt, 403, "api_key")
            st, body = post(s, report(api_key="not-a-key-at-all"), fmt)
            refused(st, body, fmt, 403, "api_key")
            for fields, status, word in (
                    (report(service_code=None), 400, "service_code"),
                    (report(service_code="9999"), 404, "service_code"),
                    (report(service_code="01"), 404, "service_code"),
                    (report(jurisdiction_id="elsewhere.org"), 404, "jurisdiction_id"),
                    (report(long=None), 400, "long"),
                    (report(lat="north"), 400, "lat"),
                    (report(lat=None, long=None), 400, "lat"),
                    (report(description="x" * 4001), 400, "description"),
                    (report(address_id="A-17"), 400, "address_id"),
                    (report(media_url="http://example.org/a.jpg"), 400, "media_url"),
                    (report(email="not-an-address"), 400, "email"),
                    (report(colour="red"), 400, "colour")):
                st, body = post(s, fields, fmt)
                refused(st, body, fmt, status, word)
            # a malformed form names the field; JSON is not a form
            st, body = post(s, {}, fmt, raw=b"api_key=%s&description=bad%%zz" % KEY.encode())
            refused(st, body, fmt, 400, "description")
            st, body = post(s, {}, fmt, raw=b'{"api_key":"x"}', ctype="application/json")
            refused(st, body, fmt, 400, "Content-Type")
            # a photo that is not an image; nothing is created for it
            st, body = post(s, report(), fmt, files={"media": ("a.png", "image/png", b"GIF89a")})
            refused(st, body, fmt, 400, "media")
        check(get_json(s, "/open311/v2/requests.json") == [], "a refused report left a request")
        # 4000 characters (of three bytes each) are fine
        rid, _ = created(s, report(description="井" * 4000))
        doc = get_json(s, "/open311/v2/requests/%s.json" % rid, "requests.json")
        check(doc[0]["description"] == "井" * 4000, "description cut")
        validate_all()
    # no keys configured: every submission is refused with the spec's 403
    with TempDir() as tmp, Server(make_db(tmp), "--config",
                                  config(tmp, open311_api_keys="")) as s:
        st, body = post(s, report(), "xml")
        refused(st, body, "xml", 403, "no api keys")


def test_reports_listings_and_retries():
    with TempDir() as tmp, Server(make_db(tmp), "--config", config(tmp), login=ADMIN) as s:
        # JSON with a photo, and an Idempotency-Key
        key = {"Idempotency-Key": "retry-" + uuid.uuid4().hex}
        a, token_a = created(s, report(), files={"media": ("p.png", "image/png", PNG)},
                             headers=key)
        again, token_again = created(s, report(), files={"media": ("p.png", "image/png", PNG)},
                                     headers=key)
        check((again, token_again) == (a, token_a), "a retry made a second request")
        # XML, address only, retried by device_id and the client's time (an extension)
        when = "2026-11-24T09:30:00+08:00"
        b, token_b = created(s, report(lat=None, long=None, address_string="1 Wulin Rd, Hangzhou",
                                       device_id="phone-42", requested_datetime=when,
                                       service_code="0202"), "xml")
        again, _ = created(s, report(lat=None, long=None, address_string="1 Wulin Rd, Hangzhou",
                                     device_id="phone-42", requested_datetime=when,
                                     service_code="0202"), "xml")
        check(again == b, "a device retry made a second request")
        c, _ = created(s, report(device_id="phone-42", requested_datetime="2026-11-24T09:31:00Z",
                                 description="Another heap"))
        check(c not in (a, b), "a new report is a new request")
        # a point outside every grid is accepted (the operator's no-grid queue), never lost
        d, _ = created(s, report(lat=OUTSIDE[0], long=OUTSIDE[1], description="Far away"))
        # a staff report is not published through Open311
        staff_case = staff(s, "POST", "/api/v1/cases", {
            "category": "0101", "description": "internal patrol note", "lat": INSIDE[0],
            "lon": INSIDE[1], "source": "patrol"}, want=201)
        staff_id = str(staff_case["case"]["id"])

        # a photo over the server's default body limit (1 MiB) is within the route's own
        big = PNG + b"\0" * (2 << 20)
        e, _ = created(s, report(description="Big photo"), files={"media": ("b.png", "image/png",
                                                                             big)})
        r = get_json(s, "/open311/v2/requests/%s.json" % e)[0]
        st, _, img = s.request("GET", r["media_url"][len(s.base):])
        check(st == 200 and img == big, "the big photo came back %d, %d bytes" % (st, len(img)))
        # one request, both formats
        doc = get_json(s, "/open311/v2/requests/%s.json" % a, "requests.json")
        r = doc[0]
        check(len(doc) == 1 and r["service_request_id"] == a and r["status"] == "open" and
              r["service_code"] == "0101" and r["service_name"] == "暴露垃圾" and
              abs(r["lat"] - INSIDE[0]) < 1e-6 and abs(r["long"] - INSIDE[1]) < 1e-6 and
              r["requested_datetime"].endswith("+08:00") and r["media_url"], r)
        st, hdr, img = s.request("GET", r["media_url"][len(s.base):], headers={"Authorization": ""})
        check(st == 200 and img == PNG and hdr["Content-Type"] == "image/png", (st, dict(hdr)))
        root = get_xml(s, "/open311/v2/requests/%s.xml" % b)
        x = root.find("request")
        check(root.tag == "service_requests" and x.findtext("service_request_id") == b and
              x.findtext("address") == "1 Wulin Rd, Hangzhou" and x.find("lat").text is None and
              x.findtext("service_code") == "0202" and x.findtext("status") == "open",
              ET.tostring(root))
        rb = get_json(s, "/open311/v2/requests/%s.json" % b, "requests.json")[0]
        check(rb["lat"] is None and rb["long"] is None and rb["media_url"] is None, rb)
        # tokens
        t = get_json(s, "/open311/v2/tokens/%s.json" % token_a)
        check(t == [{"service_request_id": a, "token": token_a}], t)
        root = get_xml(s, "/open311/v2/tokens/%s.xml" % token_b)
        check(root.findtext("request/service_request_id") == b, ET.tostring(root))
        for path in ("/open311/v2/tokens/%s.json" % ("0" * 32), "/open311/v2/tokens/zz.json",
                     "/open311/v2/requests/%s.json" % staff_id, "/open311/v2/requests/x.json",
                     "/open311/v2/requests/999999.json"):
            st, _, body = s.request("GET", path)
            refused(st, public(body), "json", 404, "")

        # the list: newest first, no staff case, filters, paging
        everything = get_json(s, "/open311/v2/requests.json", "requests.json")
        ids = [x["service_request_id"] for x in everything]
        check(set(ids) == {a, b, c, d, e} and staff_id not in ids, ids)
        check(ids == sorted(ids, key=int, reverse=True), "newest first: %s" % ids)
        root = get_xml(s, "/open311/v2/requests.xml")
        check([x.findtext("service_request_id") for x in root.findall("request")] == ids,
              ET.tostring(root)[:400])
        only = get_json(s, "/open311/v2/requests.json?service_code=0202", "requests.json")
        check([x["service_request_id"] for x in only] == [b], only)
        several = get_json(s, "/open311/v2/requests.json?service_code=0202,01", "requests.json")
        check(sorted(x["service_request_id"] for x in several) == sorted(ids), several)
        picked = get_json(s, "/open311/v2/requests.json?service_request_id=%s,%s,%s&status=closed"
                          % (a, staff_id, d), "requests.json")
        check([x["service_request_id"] for x in picked] == [a, d], "ids override the rest")
        check(get_json(s, "/open311/v2/requests.json?status=closed") == [], "nothing closed yet")
        check(len(get_json(s, "/open311/v2/requests.json?status=open,closed")) == 5, "both")
        now = datetime.now(TZ)
        iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S+08:00")
        window = "start_date=%s&end_date=%s" % (iso(now - timedelta(hours=1)).replace("+", "%2B"),
                                                iso(now + timedelta(hours=1)).replace("+", "%2B"))
        check(len(get_json(s, "/open311/v2/requests.json?" + window)) == 5, window)
        past = "start_date=2020-01-01T00:00:00Z&end_date=2020-03-01T00:00:00Z"
        check(get_json(s, "/open311/v2/requests.json?" + past) == [], past)
        check(get_json(s, "/open311/v2/requests.json?start_date=2020-01-01") == [], "90 days on")
        pages = [get_json(s, "/open311/v2/requests.json?page_size=3&page=%d" % p) for p in (1, 2, 3)]
        check([[x["service_request_id"] for x in p] for p in pages] == [ids[:3], ids[3:], []],
              pages)
        paged = [get_json(s, "/open311/v2/requests.json?service_code=0202,0101&page_size=2&page=%d"
                          % p) for p in (1, 2, 3)]
        check(sorted(x["service_request_id"] for p in paged for x in p) == sorted(ids), paged)
        for query, word in (("start_date=2020-01-01T00:00:00Z&end_date=2020-06-01T00:00:00Z",
                             "90 days"),
                            ("start_date=yesterday", "start_date"),
                            ("end_date=2026-11-24T10:00:00", "time zone"),
                            ("start_date=2026-11-24T00:00:00Z&end_date=2026-11-01T00:00:00Z",
                             "before"),
                            ("status=pending", "status"),
                            ("service_code=7777", "service_code"),
                            ("page_size=1001", "page_size"),
                            ("service_request_id=1,abc", "service_request_id")):
            for fmt in ("json", "xml"):
                st, _, body = s.request("GET", "/open311/v2/requests.%s?%s" % (fmt, query))
                refused(st, public(body), fmt, 404 if "7777" in query else 400, word)
        # the contact was kept (apart): a handler reads it through the staff API, audited
        contact = staff(s, "GET", "/api/v1/cases/%s/contact" % a)["contact"]
        check(EMAIL in contact and PHONE in contact and FIRST in contact, contact)
        validate_all()


def transition(s, case_id, action, **extra):
    body = dict(action=action, **extra)
    return staff(s, "POST", "/api/v1/cases/%s/transitions" % case_id, body)


def test_end_to_end():
    """The issue's closed loop, for an XML and a JSON report."""
    with TempDir() as tmp, Server(make_db(tmp), "--config", config(tmp), login=ADMIN) as s:
        for fmt in ("xml", "json"):
            rid, _ = created(s, report(description="Overflowing bins at the %s gate" % fmt,
                                       service_code="0104"), fmt)
            # the operator's queue: reported cases in the grid's subtree
            queue = staff(s, "GET", "/api/v1/cases?state=reported&grid=330106")
            check(int(rid) in [c["id"] for c in queue["cases"]], "not in the queue: %s" % queue)
            case = staff(s, "GET", "/api/v1/cases/%s" % rid)["case"]
            check(case["source"] == "resident" and case["has_contact"] is True and
                  case["grid"] == "330106001001001" and EMAIL not in json.dumps(case), case)
            transition(s, rid, "register", note="registered from Open311")
            transition(s, rid, "dispatch", note="to the sanitation office",
                       assignee={"kind": "department", "label": "环卫所"})
            mid = get_json(s, "/open311/v2/requests/%s.json" % rid, "requests.json")[0]
            check(mid["status"] == "open" and mid["agency_responsible"] == "环卫所" and
                  mid["expected_datetime"] and mid["status_notes"] == "to the sanitation office",
                  mid)
            # 挂账: while suspended the clock stands still and no date is promised; after the
            # resume the date is the handling deadline, moved on by the time suspended
            transition(s, rid, "suspend", note="waiting for the property owner")
            held = get_json(s, "/open311/v2/requests/%s.json" % rid, "requests.json")[0]
            check(held["status"] == "open" and held["expected_datetime"] is None, held)
            root = get_xml(s, "/open311/v2/requests/%s.xml" % rid).find("request")
            check(not root.findtext("expected_datetime"), "expected_datetime while suspended")
            back = transition(s, rid, "resume")["case"]
            again = get_json(s, "/open311/v2/requests/%s.json" % rid, "requests.json")[0]
            check(datetime.fromisoformat(again["expected_datetime"]) ==
                  datetime.fromisoformat(back["deadlines"]["handle_by"]) and
                  datetime.fromisoformat(again["expected_datetime"]) >=
                  datetime.fromisoformat(mid["expected_datetime"]), (again, back))
            transition(s, rid, "accept")
            transition(s, rid, "handle", note="bins emptied")
            transition(s, rid, "close", note="verified on site and closed")
            doc = get_json(s, "/open311/v2/requests/%s.%s" % (rid, "json"), "requests.json")[0]
            root = get_xml(s, "/open311/v2/requests/%s.xml" % rid).find("request")
            for r in (doc, {k.tag: k.text for k in root}):
                check(r["status"] == "closed" and
                      r["status_notes"] == "verified on site and closed" and
                      r["agency_responsible"] == "环卫所", r)
                requested = datetime.fromisoformat(r["requested_datetime"])
                updated = datetime.fromisoformat(r["updated_datetime"])
                expected = datetime.fromisoformat(r["expected_datetime"])
                check(updated >= requested and expected > requested and
                      r["updated_datetime"].endswith("+08:00"), r)
            staff_closed = staff(s, "GET", "/api/v1/cases/%s" % rid)["case"]["closed_at"]
            check(doc["updated_datetime"] == staff_closed,
                  "updated_datetime %s is not the closing time %s"
                  % (doc["updated_datetime"], staff_closed))
            listed = get_json(s, "/open311/v2/requests.json?status=closed", "requests.json")
            check(rid in [x["service_request_id"] for x in listed], listed)
        validate_all()


if __name__ == "__main__":
    main([test_discovery_and_services, test_post_errors, test_reports_listings_and_retries,
          test_end_to_end])
