"""Asynchronous intake: a worker thread does not block while its new cases are being committed.

The server runs with one worker thread. The test holds SQLite's write lock itself (BEGIN
IMMEDIATE on the database), so the intake's commit cannot happen: every POST /api/v1/cases is
parked. While they are, a GET on another connection of the same (only) worker must be answered,
and no POST may have been answered yet. Once the lock is released, every POST is answered 201
and every case is stored. A SIGTERM while cases are parked still drains them: each is answered
(201, Connection: close) before the server exits 0."""
import json
import signal
import socket
import sqlite3
import time

from cgserver import ADMIN, Server, make_db, read_response
from cgtest import TempDir, check, main

N = 48
IN_1 = (120.105, 30.23)


def post_case(port, token, i, expect):
    """A connection that sent POST /api/v1/cases, headers first: with Expect: 100-continue the
    server says "100 Continue" once it has started on the request."""
    body = json.dumps({"category": "0101", "description": "parked case %d" % i,
                       "lon": IN_1[0], "lat": IN_1[1]}).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    head = ("POST /api/v1/cases HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\nIdempotency-Key: park-%d\r\n"
            % (token, len(body), i))
    if expect:
        sock.sendall((head + "Expect: 100-continue\r\n\r\n").encode())
        interim = sock.recv(4096)
        check(interim.startswith(b"HTTP/1.1 100"), interim)
        sock.sendall(body)
    else:
        sock.sendall(head.encode() + b"\r\n" + body)
    return sock


def answered_yet(sock):
    sock.setblocking(False)
    try:
        data = sock.recv(1, socket.MSG_PEEK)
        return data != b""
    except BlockingIOError:
        return False
    finally:
        sock.setblocking(True)


def test_parked_cases_do_not_block_the_worker():
    with TempDir() as tmp:
        db = make_db(tmp)
        with Server(db, "--threads", "1", login=ADMIN) as s:
            token = s.headers["Authorization"].split(" ", 1)[1]
            lock = sqlite3.connect(db, timeout=10, isolation_level=None)
            lock.execute("BEGIN IMMEDIATE")  # the intake cannot commit until this ends
            try:
                # the first ones certainly started (100 Continue), the rest all at once
                socks = [post_case(s.port, token, i, i < 4) for i in range(N)]
                get = socket.create_connection(("127.0.0.1", s.port), timeout=4)
                get.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                status, _, _ = read_response(get)
                get.close()
                check(status == 200, "GET /healthz while cases are parked: %s" % status)
                early = [i for i, c in enumerate(socks) if answered_yet(c)]
                check(not early, "POSTs answered while the database was locked: %s" % early)
            finally:
                lock.execute("ROLLBACK")
                lock.close()
            ids = set()
            for i, c in enumerate(socks):
                status, _, body = read_response(c)
                c.close()
                check(status == 201, "case %d: %s %r" % (i, status, body[:200]))
                ids.add(json.loads(body)["case"]["id"])
            check(len(ids) == N, "distinct ids: %d of %d" % (len(ids), N))
        con = sqlite3.connect(db)
        stored = con.execute("SELECT count(*) FROM cases WHERE description LIKE 'parked case %'"
                             ).fetchone()[0]
        con.close()
        check(stored == N, "stored %d of %d" % (stored, N))


def test_many_concurrent_posts_one_thread():
    with TempDir() as tmp:
        db = make_db(tmp)
        with Server(db, "--threads", "1", login=ADMIN) as s:
            token = s.headers["Authorization"].split(" ", 1)[1]
            socks = [post_case(s.port, token, 1000 + i, False) for i in range(200)]
            for i, c in enumerate(socks):
                status, _, body = read_response(c)
                c.close()
                check(status == 201, "case %d: %s %r" % (i, status, body[:200]))
        con = sqlite3.connect(db)
        stored = con.execute("SELECT count(*) FROM cases WHERE description LIKE 'parked case %'"
                             ).fetchone()[0]
        con.close()
        check(stored == 200, "stored %d of 200" % stored)


def test_shutdown_drains_parked_cases():
    with TempDir() as tmp:
        db = make_db(tmp)
        s = Server(db, "--threads", "1", login=ADMIN)
        s.__enter__()
        try:
            token = s.headers["Authorization"].split(" ", 1)[1]
            lock = sqlite3.connect(db, timeout=10, isolation_level=None)
            lock.execute("BEGIN IMMEDIATE")
            try:
                socks = [post_case(s.port, token, 2000 + i, True) for i in range(16)]
                s.proc.send_signal(signal.SIGTERM)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:  # until the listener is closed
                    try:
                        socket.create_connection(("127.0.0.1", s.port), timeout=1).close()
                    except OSError:
                        break
                else:
                    raise AssertionError("still accepting 10 s after SIGTERM")
                check(s.proc.poll() is None, "exited with cases parked: %s" % s.proc.poll())
            finally:
                lock.execute("ROLLBACK")
                lock.close()
            for i, c in enumerate(socks):
                status, head, body = read_response(c)
                c.close()
                check(status == 201, "case %d: %s %r" % (i, status, body[:200]))
                check("connection: close" in head.lower(), head)
            _, err = s.proc.communicate(timeout=20)  # no second signal: it must exit by itself
            check(s.proc.returncode == 0, "exit status %s: %s" % (s.proc.returncode, err))
        finally:
            if s.proc.poll() is None:
                s.proc.kill()
        con = sqlite3.connect(db)
        stored = con.execute("SELECT count(*) FROM cases WHERE description LIKE 'parked case %'"
                             ).fetchone()[0]
        con.close()
        check(stored == 16, "stored %d of 16" % stored)


if __name__ == "__main__":
    main([test_parked_cases_do_not_block_the_worker, test_many_concurrent_posts_one_thread,
          test_shutdown_drains_parked_cases])
