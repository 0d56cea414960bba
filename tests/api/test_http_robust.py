"""The server under hostile or awkward conditions: bodies over the limit (refused from the
headers alone), path traversal into the web directory, garbage requests, SIGTERM during a slow
request, config validation before binding, and a database from a newer civgrid."""
import json
import os
import signal
import socket
import sqlite3
import time

from cgserver import Server, error_of, make_db, read_response
from cgtest import TempDir, check, main, run


def test_body_limit():
    with TempDir() as tmp, Server(make_db(tmp)) as s:
        # 2 GB announced, 3 bytes sent: the answer must come without the server waiting for
        # the rest (the socket timeout would fire first if it did).
        started = time.monotonic()
        st, _, body = s.raw(b"POST /api/v1/locate HTTP/1.1\r\nHost: t\r\n"
                            b"Content-Length: 2147483648\r\n\r\nabc", timeout=5)
        check(st == 413 and error_of(body) == ("too_large", "body"), (st, body))
        check(time.monotonic() - started < 5, "413 before reading the body")
        st, _, body = s.raw(b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 1048577\r\n\r\n")
        check(st == 413, (st, body))
    with TempDir() as tmp, Server(make_db(tmp), "--max-body", "16") as s:
        st, _, body = s.raw(b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 17\r\n\r\n" +
                            b"x" * 17)
        check(st == 413, (st, body))
        st, _, body = s.raw(b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 16\r\n\r\n" +
                            b"x" * 16)
        check(st == 200 and json.loads(body)["status"] == "ok", (st, body))
        # chunked: counted as it streams, refused once over the limit
        chunks = b"".join(b"8\r\n" + b"y" * 8 + b"\r\n" for _ in range(4)) + b"0\r\n\r\n"
        st, _, body = s.raw(b"GET /healthz HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked"
                            b"\r\n\r\n" + chunks)
        check(st == 413, (st, body))


def test_static_and_traversal():
    with TempDir() as tmp:
        web = os.path.join(tmp, "web")
        os.makedirs(os.path.join(web, "assets"))
        open(os.path.join(web, "index.html"), "w").write("<html>console</html>")
        open(os.path.join(web, "assets", "app.js"), "w").write("console.log(1)")
        open(os.path.join(web, ".env"), "w").write("hidden")
        open(os.path.join(tmp, "secret.txt"), "w").write("TOPSECRET")
        os.symlink(os.path.join(tmp, "secret.txt"), os.path.join(web, "link.txt"))
        with Server(make_db(tmp), "--web", web) as s:
            st, hdr, body = s.get("/")
            check(st == 200 and body == b"<html>console</html>" and
                  hdr["Content-Type"].startswith("text/html"), (st, body))
            st, hdr, body = s.get("/assets/app.js")
            check(st == 200 and hdr["Content-Type"].startswith("text/javascript"), st)
            st, _, body = s.get("/assets/missing.js")
            check(st == 404 and error_of(body)[0] == "not_found", (st, body))
            for target in (b"/../secret.txt", b"/%2e%2e/secret.txt", b"/assets/../../secret.txt",
                           b"/assets/%2E%2E/%2e%2e/secret.txt", b"/..%2fsecret.txt",
                           b"/%2e%2e%2fsecret.txt", b"/link.txt", b"/.env", b"/assets/..%5c..%5c"
                           b"secret.txt", b"/%00index.html"):
                st, _, body = s.raw(b"GET " + target + b" HTTP/1.1\r\nHost: t\r\n\r\n")
                check(st in (400, 404) and b"TOPSECRET" not in body and b"hidden" not in body,
                      (target, st, body))
                error_of(body)


def test_garbage_never_crashes():
    with TempDir() as tmp, Server(make_db(tmp)) as s:
        junk = [b"\x00\x01\x02\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                b"GET /api/v1/locate?lat=%%%&lon=%ff%fe HTTP/1.1\r\nHost: t\r\n\r\n",
                b"GET /api/v1/locate?" + b"a=1&" * 5000 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
                b"GET /api/v1/grids/" + b"9" * 3000 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
                b"GET /api/v1/grids?bbox=1e400,0,0,0 HTTP/1.1\r\nHost: t\r\n\r\n",
                b"GET /api/v1/locate?lat=1e-400&lon=-0 HTTP/1.1\r\nHost: t\r\n\r\n",
                b"GET http://x/healthz HTTP/1.1\r\nHost: t\r\n\r\n",
                b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: -5\r\n\r\n",
                b"GET /healthz HTTP/1.1\r\n" + b"X: " + b"y" * 100000 + b"\r\n\r\n",
                b"BREW /healthz HTTP/1.1\r\nHost: t\r\n\r\n"]
        for data in junk:
            try:
                st, _, body = s.raw(data, timeout=2)
            except OSError:
                continue  # the server may hang up on nonsense; it must not die
            check(st == 0 or 400 <= st < 600 and st != 500 or st == 200, (data[:60], st, body[:200]))
        check(s.proc.poll() is None and s.get("/healthz")[0] == 200, "server alive")


def test_sigterm_finishes_slow_request():
    with TempDir() as tmp:
        s = Server(make_db(tmp))
        s.__enter__()
        try:
            sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
            # Headers now, body later: the server holds a request in flight. "100 Continue"
            # tells us it has started on it.
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                         b"Expect: 100-continue\r\n\r\n")
            interim = sock.recv(4096)
            check(interim.startswith(b"HTTP/1.1 100"), interim)
            s.proc.send_signal(signal.SIGTERM)
            # New connections are refused once it has stopped accepting.
            deadline, refused = time.monotonic() + 10, False
            while time.monotonic() < deadline and not refused:
                try:
                    socket.create_connection(("127.0.0.1", s.port), timeout=1).close()
                except OSError:
                    refused = True
            check(refused, "listening socket closed after SIGTERM")
            check(s.proc.poll() is None, "still running while a request is in flight")
            sock.sendall(b"hello")
            st, hdr, body = read_response(sock)
            check(st == 200 and json.loads(body)["status"] == "ok", (st, body))
            check("connection: close" in hdr.lower(), hdr)
            sock.close()
            code = s.proc.wait(timeout=20)
        finally:
            if s.proc.poll() is None:
                s.proc.kill()
            s.stderr = s.proc.communicate()[1]
        check(code == 0, "exit status %d after SIGTERM: %s" % (code, s.stderr))


def serve_fails(*args):
    code, out, err = run("serve", *args)
    check(code != 0 and "serving" not in out, (args, code, out, err))
    return err


def test_config_validation():
    with TempDir() as tmp:
        db = make_db(tmp)
        cfg = os.path.join(tmp, "civgrid.json")

        def with_config(doc):
            open(cfg, "w").write(doc if isinstance(doc, str) else json.dumps(doc))
            return serve_fails("--config", cfg)

        err = with_config({"db": db, "port": 70000})
        check("config %s: port: 70000 is out of range" % cfg in err, err)
        err = with_config({"db": db, "colour": "blue"})
        check("colour" in err and "unknown key" in err, err)
        err = with_config({"db": db, "threads": "two"})
        check("threads" in err, err)
        err = with_config({"db": db, "max_body": 0})
        check("max_body" in err, err)
        err = with_config('{"db": "x.db", ')
        check(cfg in err and "line" in err, err)
        err = with_config({"db": db, "bind": "not-an-address"})
        check("bind" in err and "not-an-address" in err, err)
        err = serve_fails("--db", db, "--port", "70000")
        check("port" in err and "70000" in err, err)
        err = serve_fails("--db", db, "--threads", "0")
        check("threads" in err, err)
        err = serve_fails("--db", db, "--web", os.path.join(tmp, "nope"))
        check("web" in err, err)
        missing = os.path.join(tmp, "missing.db")
        err = serve_fails("--db", missing)
        check(missing in err and "civgrid demo" in err and not os.path.exists(missing), err)
        # a port in use is refused with the reason
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            err = serve_fails("--db", db, "--port", str(busy.getsockname()[1]))
            check("in use" in err, err)
        # flags override the config file
        open(cfg, "w").write(json.dumps({"db": missing, "port": 1}))
        with Server(db, "--config", cfg) as s:
            check(s.get("/healthz")[0] == 200, "flags override config")


def test_newer_schema_refused():
    with TempDir() as tmp:
        db = make_db(tmp)
        con = sqlite3.connect(db)
        version = con.execute("SELECT max(version) FROM schema_version").fetchone()[0]
        con.execute("INSERT INTO schema_version(version, applied_at) VALUES (?, 0)",
                    (version + 1,))
        con.commit()
        con.close()
        code, out, err = run("serve", "--db", db, "--port", "0")
        check(code == 4 and "newer" in err and "serving" not in out, (code, err))


if __name__ == "__main__":
    main([test_body_limit, test_static_and_traversal, test_garbage_never_crashes,
          test_sigterm_finishes_slow_request, test_config_validation, test_newer_schema_refused])
