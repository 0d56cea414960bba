"""GET / of `civgrid serve`: without a web console directory it answers with the built-in overview
page (Chinese first, self-contained, reading only API paths that exist, logging in with the
console cookie first); with --web DIR the directory's index.html is served exactly as before, and
a web directory without one is a 404. /auth/me gives a cookie session its CSRF token again, so a
reloaded page can still log out."""
import html.parser
import json
import os
import re

from cgserver import ADMIN, Server, error_of, make_db
from cgtest import TempDir, check, main

# Paths the page must use: who is logged in, the login, the logout, the map, the topology status
# and point lookup.
FETCHED = ["/api/v1/auth/me", "/api/v1/auth/login", "/api/v1/auth/logout",
           "/api/v1/grids?format=geojson", "/api/v1/grids/check", "/api/v1/locate"]


class FormParser(html.parser.HTMLParser):
    """The inputs, labels and buttons inside <form id="login">."""

    def __init__(self):
        super().__init__()
        self.depth, self.inputs, self.labels, self.buttons, self.text = 0, [], {}, [], []
        self.label_for = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "login":
            self.depth = 1
        elif self.depth:
            if tag == "form":
                self.depth += 1
            elif tag == "input":
                self.inputs.append(a)
            elif tag == "label":
                self.label_for = a.get("for")
                self.labels[self.label_for] = ""
            elif tag == "button":
                self.buttons.append(a)

    def handle_endtag(self, tag):
        if self.depth and tag == "form":
            self.depth -= 1
        elif tag == "label":
            self.label_for = None

    def handle_data(self, data):
        if self.depth:
            self.text.append(data)
            if self.label_for is not None:
                self.labels[self.label_for] += data


def landing(s):
    st, headers, body = s.get("/")
    check(st == 200, "GET / answered %d: %r" % (st, body[:200]))
    check(headers["Content-Type"] == "text/html; charset=utf-8", headers["Content-Type"])
    return body.decode("utf-8")


def test_landing_without_web_dir():
    with TempDir() as tmp, Server(make_db(tmp), "--web", "", login=ADMIN) as s:
        page = landing(s)
        check('<html lang="zh-CN">' in page, "the page is not marked zh-CN")
        for path in FETCHED:
            check(path in page, "the page does not read %s" % path)
        # Every literal URL the page fetches must answer 200 on this server.
        urls = re.findall(r'getJSON\("([^"]+)"\)', page)
        check(len(urls) >= 3, "found only %r" % urls)
        for url in urls:
            st, _, body = s.get(url)
            check(st == 200, "the page fetches %s, which answered %d %r" % (url, st, body[:200]))
        st, _, _ = s.get("/api/v1/locate?lat=0&lon=0")
        check(st == 200, "locate answered %d" % st)
        # No external resources: no scheme-relative or absolute URLs in src/href/url()/@import.
        # The login form: each input has a label bound to it (Chinese, then English), the
        # password is masked, the submit button says 登录 / Log in, and the errors are in words.
        form = FormParser()
        form.feed(page)
        check(len(form.inputs) == 2, "login form inputs: %r" % form.inputs)
        want = {"username": "用户名 / Username", "password": "密码 / Password"}
        for inp in form.inputs:
            label = " ".join(form.labels.get(inp.get("id"), "").split())
            check(label == want[inp["name"]], "input %r has label %r" % (inp, label))
        check([i["name"] for i in form.inputs if i.get("type") == "password"] == ["password"],
              "the password field is not masked: %r" % form.inputs)
        check(any(b.get("type") == "submit" for b in form.buttons), "no submit button")
        check("登录 / Log in" in "".join(form.text), "no 登录 / Log in in the form")
        for words in ["用户名或密码错误 / Wrong username or password", "尝试次数过多", "Retry-After",
                      "Too many attempts, try again in ", "退出 / Log out", "X-CSRF-Token",
                      '"console"', "scripts/demo"]:
            check(words in page, "the page lacks %r" % words)
        external = re.findall(r'(?:src|href)\s*=\s*"(?:https?:)?//|url\(\s*[\'"]?(?:https?:)?//'
                              r'|@import', page, re.I)
        check(not external, "external resources: %r" % external)


def test_me_gives_a_cookie_session_its_csrf_token():
    with TempDir() as tmp, Server(make_db(tmp), "--web", "") as s:
        st, _, body = s.request("GET", "/api/v1/auth/me")
        check(st == 401, "/auth/me without a session answered %d %r" % (st, body[:200]))
        st, doc, hdr = s.login(*ADMIN, client="console")
        check(st == 200 and doc["csrf_token"], doc)
        cookie = {"Cookie": hdr["Set-Cookie"].split(";")[0]}
        st, hdr, body = s.request("GET", "/api/v1/auth/me", headers=cookie)
        me = json.loads(body)
        check(st == 200 and me["session"]["kind"] == "cookie", (st, me))
        check(me["session"].get("csrf_token") == doc["csrf_token"],
              "/auth/me gave %r, the login %r" % (me["session"].get("csrf_token"),
                                                  doc["csrf_token"]))
        check(hdr["Cache-Control"] == "no-store", "a CSRF token cached: %r" % hdr["Cache-Control"])
        # A page that lost the login answer logs out with the token /auth/me gave it.
        st, _, body = s.request("POST", "/api/v1/auth/logout", headers=dict(
            cookie, **{"X-CSRF-Token": me["session"]["csrf_token"]}))
        check(st == 200, "logout with the token from /auth/me: %d %r" % (st, body[:200]))
        check(s.request("GET", "/api/v1/auth/me", headers=cookie)[0] == 401, "still logged in")
        # Bearer sessions send no cookie, so they have no CSRF token to be given.
        s.login(*ADMIN)
        st, me, _ = s.json("/api/v1/auth/me")
        check(st == 200 and me["session"]["kind"] == "bearer", me)
        check("csrf_token" not in me["session"], "a bearer session got %r" % me["session"])


def test_landing_head_and_other_paths():
    with TempDir() as tmp, Server(make_db(tmp), "--web", "", login=ADMIN) as s:
        st, headers, body = s.get("/", method="HEAD")
        check(st == 200 and headers["Content-Type"].startswith("text/html"), (st, headers))
        check(body == b"", "HEAD / sent a body of %d bytes" % len(body))
        # Only / is the page: other paths outside the API stay a JSON 404.
        st, _, body = s.get("/index.html")
        check(st == 404 and error_of(body)[0] == "not_found", (st, body[:200]))
        st, _, body = s.get("/", method="DELETE")
        check(st == 404 and error_of(body)[0] == "not_found", (st, body[:200]))


def test_web_dir_index_served_instead():
    with TempDir() as tmp:
        web = os.path.join(tmp, "web")
        os.mkdir(web)
        marker = "<!doctype html><title>console</title><p>控制台 %d</p>\n" % os.getpid()
        with open(os.path.join(web, "index.html"), "w", encoding="utf-8") as f:
            f.write(marker)
        with Server(make_db(tmp), "--web", web) as s:
            check(landing(s) == marker, "GET / did not serve the web directory's index.html")


def test_web_dir_without_index_is_not_found():
    with TempDir() as tmp:
        web = os.path.join(tmp, "web")
        os.mkdir(web)
        with Server(make_db(tmp), "--web", web) as s:
            st, _, body = s.get("/")
            check(st == 404 and error_of(body)[0] == "not_found",
                  "an empty web directory should 404 as before, got %d %r" % (st, body[:200]))


if __name__ == "__main__":
    main([test_landing_without_web_dir, test_me_gives_a_cookie_session_its_csrf_token,
          test_landing_head_and_other_paths,
          test_web_dir_index_served_instead, test_web_dir_without_index_is_not_found])
