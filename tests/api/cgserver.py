"""Starts the real `civgrid serve` on a free loopback port for the API tests and talks to it:
JSON over urllib, and raw bytes over a socket for the requests urllib would refuse to send
(path traversal, oversized bodies, slow uploads). Most routes need a login: make_db() creates an
administrator (ADMIN) with the real CLI, and Server(db, login=ADMIN) logs in with a bearer token
that every later get()/json()/request() sends."""
import http.client
import json
import os
import select
import socket
import subprocess
import time
import urllib.error
import urllib.request

from cgtest import BIN, DATA, run

START_TIMEOUT = 20.0
ADMIN = ("admin", "Admin-pass-2026!")


def add_user(db, username, password, roles, scope=""):
    """Creates an account with the real CLI (`civgrid user add`, the password on standard
    input); returns its id."""
    args = ["user", "add", username, "--db", db, "--roles", roles]
    if scope:
        args += ["--scope", scope]
    _, out, _ = run(*args, check=0, stdin=password + "\n")
    return int(out.split("(id ")[1].split()[0].rstrip(",)"))


def make_db(tmp, fixture="api_grids.geojson", admin=True):
    """A database holding the fixture hierarchy (imported with the real CLI), with the ADMIN
    account unless admin=False."""
    db = os.path.join(tmp, "grids.db")
    run("import", "grids", os.path.join(DATA, fixture), "--db", db, check=0)
    if admin:
        add_user(db, ADMIN[0], ADMIN[1], "admin")
    return db


class Server:
    """`with Server(db, *extra_flags) as s:` starts the server and stops it with SIGTERM."""

    def __init__(self, db, *flags, access_log=None, login=None, prefix=None, token=None):
        """prefix: a command the server runs under (e.g. setpriv to drop root); token: a bearer
        token to send instead of logging in."""
        self.db, self.flags, self.access_log = db, list(flags), access_log
        self.proc, self.port, self.stderr = None, None, ""
        self.login_as, self.headers = login, {}
        self.prefix = list(prefix or [])
        if token:
            self.headers = {"Authorization": "Bearer " + token}

    def __enter__(self):
        args = self.prefix + [BIN, "serve", "--db", self.db, "--port", "0", "--threads", "2"]
        args += ["--access-log", self.access_log if self.access_log else ""] + self.flags
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        deadline = time.monotonic() + START_TIMEOUT
        line = ""
        while time.monotonic() < deadline and "serving http://" not in line:
            ready, _, _ = select.select([self.proc.stdout], [], [], deadline - time.monotonic())
            if not ready:
                break
            line = self.proc.stdout.readline()
            if line == "":  # the process exited before it listened
                break
        if "serving http://" not in line:
            self.proc.kill()
            _, err = self.proc.communicate()
            raise AssertionError("server did not start: %r %s" % (line, err))
        self.port = int(line.split("http://")[1].split("/")[0].rsplit(":", 1)[1])
        self.base = "http://127.0.0.1:%d" % self.port
        # Listening is printed after bind; /healthz confirms the workers answer.
        while time.monotonic() < deadline:
            try:
                if self.get("/healthz")[0] == 200:
                    break
            except OSError:
                pass
        else:
            raise AssertionError("server never answered /healthz")
        if self.login_as:
            st, body, _ = self.login(*self.login_as)
            if st != 200:
                raise AssertionError("login as %s: %d %s" % (self.login_as[0], st, body))
        return self

    def login(self, username, password, client="token", source=None):
        """POST /api/v1/auth/login; with client=token a success makes later requests send the
        token. Returns (status, parsed body, headers)."""
        st, hdr, body = self.request("POST", "/api/v1/auth/login", {
            "username": username, "password": password, "client": client}, source=source)
        doc = json.loads(body)
        if st == 200 and client == "token":
            self.headers = {"Authorization": "Bearer " + doc["token"]}
        return st, doc, hdr

    def request(self, method, path, body=None, headers=None, source=None):
        """(status, headers, body bytes) of one request with self.headers plus headers; body is
        sent as JSON unless it is bytes; source is a local address to connect from (loopback
        has all of 127/8, so tests can be several clients)."""
        con = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30,
                                         source_address=(source, 0) if source else None)
        h = dict(self.headers)
        h.update(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        try:
            con.request(method, path, body=data, headers=h)
            r = con.getresponse()
            return r.status, r.headers, r.read()
        finally:
            con.close()

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            _, self.stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("server did not stop within %ds of SIGTERM" % timeout)
        return self.proc.returncode

    def __exit__(self, *exc):
        self.stop()

    def get(self, path, method="GET"):
        """(status, headers, body bytes) without raising on 4xx/5xx."""
        req = urllib.request.Request(self.base + path, method=method, headers=self.headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def json(self, path, method="GET"):
        status, headers, body = self.get(path, method)
        return status, json.loads(body), headers

    def raw(self, data, timeout=10):
        """Sends raw bytes, returns (status, headers text, body bytes) of the first response."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(data)
            return read_response(sock)


def read_response(sock):
    """Reads one HTTP response (Content-Length framed, or until close)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines[0].startswith("HTTP/") else 0
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while length is None or len(body) < length:
        try:
            chunk = sock.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        body += chunk
    return status, "\r\n".join(lines[1:]), body


def error_of(body):
    """The (code, field) of an error body, checking its shape."""
    doc = json.loads(body) if isinstance(body, (bytes, str)) else body
    e = doc["error"]
    assert isinstance(e["message"], str) and e["message"], "error without message: %s" % doc
    return e["code"], e.get("field")
