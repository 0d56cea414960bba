"""Every limit holds and answers clearly: request size (413 from the headers), JSON depth (413),
page sizes (a limit over the maximum is 400 naming `limit` and the range, never silently
clamped), features per import (the CLI refuses a file over --max-features before writing
anything), slow clients (a connection silent longer than connection_timeout is closed, mid-header
or mid-body, and slow clients never hold a worker thread: others are answered meanwhile), and
max_connections (the connection past it is refused, the server stays well)."""
import json
import os
import socket
import sqlite3
import time

from cgserver import ADMIN, Server, error_of, make_db, read_response
from cgtest import DATA, TempDir, check, main, run

TIMEOUT = 2  # seconds: --connection-timeout for the slow-client tests


def test_request_size_and_depth():
    with TempDir() as tmp, Server(make_db(tmp), "--max-body", "4096", login=ADMIN) as s:
        st, _, body = s.raw(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\n"
                            b"Content-Length: 4097\r\n\r\n")
        doc = json.loads(body)
        check(st == 413 and error_of(doc) == ("too_large", "body") and
              "4096 bytes" in doc["error"]["message"], (st, body))
        deep = b"[" * 2000 + b"]" * 2000
        st, _, body = s.request("POST", "/api/v1/posts/plan", deep)
        doc = json.loads(body)
        check(st == 413 and error_of(doc) == ("too_large", "body") and
              "levels deep" in doc["error"]["message"], (st, body))


def test_page_sizes():
    with TempDir() as tmp, Server(make_db(tmp), login=ADMIN) as s:
        for path, top in (("/api/v1/grids?limit=%d", 10000),
                          ("/api/v1/grids?format=geojson&limit=%d", 50000),
                          ("/api/v1/audit?limit=%d", 1000)):
            st, doc, _ = s.json(path % (top + 1))
            check(st == 400 and error_of(doc) == ("invalid", "limit") and
                  str(top) in doc["error"]["message"], (path, st, doc))
            st, doc, _ = s.json(path % top)
            check(st == 200, (path, st, doc))
            st, doc, _ = s.json(path % 0)
            check(st == 400 and error_of(doc) == ("invalid", "limit"), (path, st, doc))
        st, doc, _ = s.json("/api/v1/grids?limit=99999999999999999999")
        check(st == 400 and error_of(doc) == ("invalid", "limit"), doc)
        # the default page is bounded and says so
        st, doc, _ = s.json("/api/v1/grids")
        check(st == 200 and doc["limit"] == 100 and len(doc["grids"]) <= 100, doc["limit"])


def test_features_per_import():
    with TempDir() as tmp:
        src = os.path.join(DATA, "api_grids.geojson")
        n = len(json.load(open(src))["features"])
        db = os.path.join(tmp, "g.db")
        code, _, err = run("import", "grids", src, "--db", db, "--max-features", str(n - 1))
        check(code == 3 and str(n - 1) in err and "features" in err, (code, err))
        if os.path.exists(db):
            con = sqlite3.connect(db)
            try:
                rows = con.execute("SELECT count(*) FROM grids").fetchone()[0]
            except sqlite3.OperationalError:
                rows = 0
            con.close()
            check(rows == 0, "a refused import wrote %d grids" % rows)
        run("import", "grids", src, "--db", db, "--max-features", str(n), check=0)


def wait_closed(sock, limit):
    """Seconds until the server closes sock (recv gives EOF or a reset), at most limit."""
    started = time.monotonic()
    sock.settimeout(limit)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                break
    except ConnectionResetError:
        pass
    except socket.timeout:
        return None
    return time.monotonic() - started


def test_slow_clients():
    with TempDir() as tmp, Server(make_db(tmp), "--connection-timeout", str(TIMEOUT)) as s:
        addr = ("127.0.0.1", s.port)
        # Headers a byte at a time, slower than the timeout: dropped after the first byte.
        a = socket.create_connection(addr)
        a.sendall(b"G")
        waited = wait_closed(a, TIMEOUT + 10)
        check(waited is not None and TIMEOUT - 0.5 <= waited <= TIMEOUT + 3,
              "mid-header client dropped after %s s (timeout %d)" % (waited, TIMEOUT))
        a.close()
        # Mid-body: headers complete, 3 of 10 body bytes, then silence.
        b = socket.create_connection(addr)
        b.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n{\"u")
        waited = wait_closed(b, TIMEOUT + 10)
        check(waited is not None and waited <= TIMEOUT + 3, "mid-body client: %s s" % waited)
        b.close()
        # Many slow clients (20x the worker threads) hold no worker: others are answered.
        slow = []
        for i in range(40):
            c = socket.create_connection(addr)
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"x" * i)
            slow.append(c)
        for _ in range(20):
            started = time.monotonic()
            st, _, _ = s.get("/healthz")
            check(st == 200 and time.monotonic() - started < 1.0,
                  "healthz with 40 slow clients: %d in %.2f s" % (st, time.monotonic() - started))
        for c in slow:
            check(wait_closed(c, TIMEOUT + 10) is not None, "a slow client was never dropped")
            c.close()
        # An idle keep-alive connection is closed too, after answering.
        k = socket.create_connection(addr)
        k.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        st, _, _ = read_response(k)
        check(st == 200, st)
        check(wait_closed(k, TIMEOUT + 10) is not None, "idle keep-alive never closed")
        k.close()
        check(s.proc.poll() is None and s.get("/healthz")[0] == 200, "alive")


def test_max_connections():
    with TempDir() as tmp, Server(make_db(tmp), "--max-connections", "4") as s:
        addr = ("127.0.0.1", s.port)
        held = [socket.create_connection(addr) for _ in range(4)]
        for c in held:  # each is accepted and answered, then kept open
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            check(read_response(c)[0] == 200, "held connection answered")
        extra = socket.create_connection(addr, timeout=10)
        try:
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            st = read_response(extra)[0]
        except OSError:
            st = 0
        check(st == 0, "a fifth connection past max_connections 4 was served: %d" % st)
        extra.close()
        for c in held:
            c.close()
        # Slots free again: the server serves new connections (closing is seen asynchronously,
        # so retry briefly rather than sleep).
        deadline, st = time.monotonic() + 10, 0
        while st != 200 and time.monotonic() < deadline:
            try:
                st = s.get("/healthz")[0]
            except OSError:
                st = 0
        check(st == 200, "served after connections were freed")


def test_config_keys():
    with TempDir() as tmp:
        db = make_db(tmp, admin=False)
        cfg = os.path.join(tmp, "c.json")
        for key, bad in (("connection_timeout", 0), ("connection_timeout", 3601),
                         ("max_connections", 0), ("max_connections", "many")):
            open(cfg, "w").write(json.dumps({"db": db, key: bad}))
            code, out, err = run("serve", "--config", cfg, "--port", "0")
            check(code == 2 and key in err and "serving" not in out, (key, bad, code, err))
        code, _, err = run("serve", "--db", db, "--port", "0", "--connection-timeout", "0")
        check(code == 2 and "connection_timeout" in err, err)
        open(cfg, "w").write(json.dumps({"db": db, "connection_timeout": 5,
                                         "max_connections": 100}))
        with Server(db, "--config", cfg) as s:
            check(s.get("/healthz")[0] == 200, "config keys accepted")


if __name__ == "__main__":
    main([test_request_size_and_depth, test_page_sizes, test_features_per_import,
          test_slow_clients, test_max_connections, test_config_keys])
