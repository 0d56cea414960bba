"""GET / of `civgrid serve`: without a web console directory it answers with the built-in overview
page (Chinese first, self-contained, reading only API paths that exist); with --web DIR the
directory's index.html is served exactly as before, and a web directory without one is a 404."""
import os
import re

from cgserver import ADMIN, Server, error_of, make_db
from cgtest import TempDir, check, main

# Paths the page must read: the map, the topology status, the grid count and point lookup.
FETCHED = ["/api/v1/grids?format=geojson", "/api/v1/grids/check", "/healthz", "/api/v1/locate"]


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
        external = re.findall(r'(?:src|href)\s*=\s*"(?:https?:)?//|url\(\s*[\'"]?(?:https?:)?//'
                              r'|@import', page, re.I)
        check(not external, "external resources: %r" % external)


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
    main([test_landing_without_web_dir, test_landing_head_and_other_paths,
          test_web_dir_index_served_instead, test_web_dir_without_index_is_not_found])
