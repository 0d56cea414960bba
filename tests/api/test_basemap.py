"""The base map (src/http/api_map.c) against the real server on the `civgrid demo` district, asked
anonymously: tiles inside and outside the district, zoom and tile numbers out of range (400
naming the field), simplification (a curved road imported from an OSM file has fewer vertices at
a low zoom than at a high one), buildings only from their zoom, the feature cap, ETags that move
when the places change, and nothing about people in a tile. Tiles take from a rate-limit bucket
of their own: a resident panning the map never uses up what their report needs, and tiles stay
limited."""
import json
import math
import os
from urllib.parse import urlencode

from cgserver import Server, error_of
from cgtest import TempDir, check, main, run

WIGGLE = "Wiggle Road"


def tile_of(lon, lat, z):
    n = 2 ** z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return z, int((lon + 180) / 360 * n), int(y)


def url(z, x, y, query=""):
    return "/api/v1/basemap/%d/%d/%d%s" % (z, x, y, query)


def get_tile(s, z, x, y, query=""):
    st, hdr, body = s.get(url(z, x, y, query))
    check(st == 200, "%s: %d %s" % (url(z, x, y, query), st, body[:300]))
    check(hdr["Content-Type"].startswith("application/geo+json"), hdr["Content-Type"])
    return json.loads(body), hdr


def layers(doc):
    out = {}
    for f in doc["features"]:
        out.setdefault(f["properties"]["layer"], []).append(f)
    return out


def wiggle_osm(path):
    """A primary road of 201 nodes waving three times across 2 km of the district."""
    nodes, refs = [], []
    for i in range(201):
        t = i / 200
        nid = 9000000001 + i
        nodes.append('<node id="%d" version="1" lat="%.7f" lon="%.7f"/>'
                     % (nid, 30.25 + 0.003 * math.sin(t * math.pi * 6), 120.10 + 0.02 * t))
        refs.append('<nd ref="%d"/>' % nid)
    with open(path, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">\n')
        f.write("\n".join(nodes))
        f.write('\n<way id="9100000001" version="1">%s<tag k="highway" v="primary"/>'
                '<tag k="name" v="%s"/></way>\n</osm>\n' % ("".join(refs), WIGGLE))


def wiggle_vertices(doc):
    return sum(len(part) for f in doc["features"] if f["properties"].get("name_en") == WIGGLE
               for part in f["geometry"]["coordinates"])


def test_basemap():
    with TempDir() as tmp:
        run("demo", "--out", tmp, check=0)
        db = os.path.join(tmp, "civgrid.db")
        with Server(db) as s:  # never logs in: everything here is anonymous
            st, info, hdr = s.json("/api/v1/basemap")
            check(st == 200 and info["tiles"] == "/api/v1/basemap/{z}/{x}/{y}", info)
            b = info["bounds"]
            check(119 < b[0] < b[2] < 121 and 29 < b[1] < b[3] < 31, b)
            lon, lat = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
            etag = hdr["ETag"]

            # inside the district at z16: roads with a class, buildings, outlines and names
            doc, hdr = get_tile(s, *tile_of(lon, lat, 16))
            ls = layers(doc)
            check(doc["type"] == "FeatureCollection" and doc["count"] == len(doc["features"]),
                  doc["count"])
            check(ls.get("road") and all(f["properties"]["class"] for f in ls["road"]),
                  "roads at z16: %s" % list(ls))
            check(ls.get("building") and
                  all(f["geometry"]["type"] == "MultiPolygon" for f in ls["building"]),
                  "buildings at z16: %s" % list(ls))
            check(hdr["ETag"] == etag and "max-age" in hdr["Cache-Control"], dict(hdr))
            # nothing about people or teams, whatever the layer
            raw = json.dumps(doc)
            for leak in ("households", "grade", "leader", "members", "phone", "contact"):
                check(leak not in raw, "a tile holds %s" % leak)
            # every coordinate lies near the tile (clipped to it plus a few pixels)
            z, x, y = tile_of(lon, lat, 16)
            n = 2 ** z
            west, east = x / n * 360 - 180, (x + 1) / n * 360 - 180
            slack = 10 / 256 / n * 360  # buildings are drawn whole
            for f in ls["road"]:
                for part in f["geometry"]["coordinates"]:
                    check(all(west - slack <= p[0] <= east + slack for p in part), part)

            # the outlines of streets and communities with their names, not grids below them
            doc, _ = get_tile(s, *tile_of(lon, lat, 14))
            ls = layers(doc)
            levels = {f["properties"]["level"] for f in ls.get("outline", [])}
            check(levels and levels <= {"street", "community"}, levels)
            check(all(f["properties"].get("name_zh") for f in ls["outline"]), "outline names")
            # buildings would be specks at z14: none
            check("building" not in ls, "buildings at z14")

            # outside the district: an empty collection, not an error
            doc, _ = get_tile(s, *tile_of(2.35, 48.85, 16))
            check(doc["features"] == [] and doc["count"] == 0, doc)
            doc, _ = get_tile(s, 0, 0, 0)
            check(not layers(doc).get("building"), "buildings at z0")

            # bad tile addresses: 400 naming the field
            for path, field in ((url(21, 0, 0), "z"), ("/api/v1/basemap/-1/0/0", "z"),
                                ("/api/v1/basemap/x/0/0", "z"), (url(3, 8, 0), "x"),
                                (url(3, 0, 8), "y"), ("/api/v1/basemap/3/0/1.5", "y"),
                                (url(3, 0, 0, "?max_features=0"), "max_features"),
                                (url(3, 0, 0, "?colour=red"), "colour")):
                st, _, body = s.get(path)
                check(st == 400 and error_of(body)[1] == field,
                      "%s: %d %s (want field %s)" % (path, st, body[:200], field))

            # the cap: the most important features first, the rest counted as left out
            z, x, y = tile_of(lon, lat, 16)
            full, _ = get_tile(s, z, x, y)
            check(full["count"] > 5 and full["truncated"] is False, full["count"])
            capped, _ = get_tile(s, z, x, y, "?max_features=5")
            check(capped["count"] == 5 and len(capped["features"]) == 5 and
                  capped["truncated"] is True and capped["omitted"] >= full["count"] - 5,
                  {k: capped[k] for k in ("count", "truncated", "omitted")})
            check(capped["features"] == full["features"][:5], "the cap keeps the first features")
            order = ["outline", "label", "road", "building"]
            ranks = [order.index(f["properties"]["layer"]) for f in full["features"]]
            check(ranks == sorted(ranks), "features come most important first")

            # revalidation: the same ETag answers 304 without a body
            st, hdr, body = s.raw(("GET %s HTTP/1.1\r\nHost: t\r\nIf-None-Match: %s\r\n"
                                   "Connection: close\r\n\r\n" % (url(z, x, y), etag)).encode())
            check(st == 304 and body == b"", (st, body[:100]))

            # a new road imported while the server runs: a new ETag, and the road is drawn,
            # with fewer vertices at a low zoom than at a high one
            osm = os.path.join(tmp, "wiggle.osm")
            wiggle_osm(osm)
            run("import", "osm", "--db", db, osm, check=0)
            _, info2, _ = s.json("/api/v1/basemap")
            check(info2["etag"] != info["etag"], "the ETag moves with the places")
            low, _ = get_tile(s, *tile_of(120.11, 30.25, 12))
            v_low = wiggle_vertices(low)
            z, x0, y0 = tile_of(120.0995, 30.2535, 17)
            _, x1, y1 = tile_of(120.1205, 30.2465, 17)
            v_high = 0
            for tx in range(x0, x1 + 1):
                for ty in range(y0, y1 + 1):
                    v_high += wiggle_vertices(get_tile(s, z, tx, ty)[0])
            check(8 <= v_low < v_high and v_low < 201,
                  "vertices of the same road: %d at z12, %d at z17" % (v_low, v_high))
            # at z12 the line keeps its shape within a pixel or so: the wave's crests survive
            lats = [p[1] for f in low["features"] if f["properties"].get("name_en") == WIGGLE
                    for part in f["geometry"]["coordinates"] for p in part]
            check(max(lats) > 30.2525 and min(lats) < 30.2475, (min(lats), max(lats)))


KEY = "tile-test-key-01"


def resident_post(s, source):
    """An anonymous Open311 report from `source`; returns the status."""
    body = urlencode({"api_key": KEY, "service_code": "0101", "lat": 30.27, "long": 120.16,
                      "description": "panned the map, then reported"}).encode()
    st, _, _ = s.request("POST", "/open311/v2/requests.json", body, source=source, headers={
        "Authorization": "", "Content-Type": "application/x-www-form-urlencoded"})
    return st


def test_tile_rate_limit():
    with TempDir() as tmp:
        run("demo", "--out", tmp, check=0)
        db = os.path.join(tmp, "civgrid.db")
        # Small buckets so the limits are reached quickly: 4 public calls, 80 tiles.
        cfg = os.path.join(tmp, "small.json")
        json.dump({"open311_api_keys": KEY, "public_rate": 1, "public_burst": 4,
                   "tile_rate": 1, "tile_burst": 80}, open(cfg, "w"))
        with Server(db, "--config", cfg) as s:
            _, info, _ = s.json("/api/v1/basemap")  # public bucket: 1 of 4
            b = info["bounds"]
            z, x0, y0 = tile_of(b[0], b[3], 15)
            tiles = [(z, x0 + i % 10, y0 + i // 10) for i in range(80)]
            src = "127.0.0.21"
            got = [s.request("GET", url(*t), headers={"Authorization": ""}, source=src)[0]
                   for t in tiles]
            check(got == [200] * 80, "80 tiles in a burst: %s" % got)
            # the tile bucket is empty now: tiles are limited, with a Retry-After
            st, hdr, body = s.request("GET", url(*tiles[0]), headers={"Authorization": ""},
                                      source=src)
            check(st == 429 and error_of(body)[0] == "rate_limited" and
                  int(hdr["Retry-After"]) >= 1, (st, body[:200]))
            # ... and a revalidation counts as a tile too (it is cheap, not free)
            st, _, _ = s.request("GET", url(*tiles[1]), headers={
                "Authorization": "", "If-None-Match": info["etag"]}, source=src)
            check(st == 429, st)
            # the same address's report still goes through: the public bucket is its own
            # (one token each, though a report passes the gate twice: on its headers, for the
            # larger body limit, and before its handler)
            got = [resident_post(s, src) for _ in range(5)]
            check(got == [200] * 4 + [429], "reports after 80 tiles: %s" % got)
            # other addresses have full buckets of both kinds
            check(s.request("GET", url(*tiles[0]), headers={"Authorization": ""},
                            source="127.0.0.22")[0] == 200, "tile bucket per address")
            check(resident_post(s, "127.0.0.22") == 200, "public bucket per address")

        # The defaults: a hard pan (300 tiles at once, half of them revalidated) from one address
        # passes, and the report afterwards too.
        cfg = os.path.join(tmp, "default.json")
        json.dump({"open311_api_keys": KEY}, open(cfg, "w"))
        with Server(db, "--config", cfg) as s:
            _, info, _ = s.json("/api/v1/basemap")
            b = info["bounds"]
            z, x0, y0 = tile_of(b[0], b[3], 16)
            src = "127.0.0.23"
            got = [s.request("GET", url(z, x0 + i % 20, y0 + i // 20), source=src, headers={
                "Authorization": "", "If-None-Match": info["etag"] if i % 2 else "x"})[0]
                for i in range(300)]
            check(got.count(200) == 150 and got.count(304) == 150, "a pan of 300 tiles: %s" %
                  sorted(set(got)))
            check(resident_post(s, src) == 200, "the report after the pan")


if __name__ == "__main__":
    main([test_basemap, test_tile_rate_limit])
