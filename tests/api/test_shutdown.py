"""Shutdown: the first SIGTERM stops accepting, lets every request in flight finish (each answer
says Connection: close) and exits 0 without waiting for idle keep-alive connections; a second
SIGTERM or SIGINT during the drain forces the exit at once (status 4), cutting what is left.

A request is held in flight deterministically with `Expect: 100-continue`: the server answers
"100 Continue" once it has started on the request, then waits for the body we have not sent."""
import json
import signal
import socket
import time

from cgserver import Server, make_db, read_response
from cgtest import TempDir, check, main


def hold_request(port):
    """A connection with a request in flight (headers sent, body pending)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                 b"Expect: 100-continue\r\n\r\n")
    interim = sock.recv(4096)
    check(interim.startswith(b"HTTP/1.1 100"), interim)
    return sock


def wait_not_accepting(port, proc):
    """Polls until the listening socket is closed (the server has taken the signal)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return
    raise AssertionError("still accepting 10 s after the signal (exit %s)" % proc.poll())


def started(tmp):
    s = Server(make_db(tmp))
    s.__enter__()
    return s


def finish(s):
    if s.proc.poll() is None:
        s.proc.kill()
    s.stderr = s.proc.communicate()[1]


def test_drain_finishes_in_flight():
    with TempDir() as tmp:
        s = started(tmp)
        try:
            one, two = hold_request(s.port), hold_request(s.port)
            idle = socket.create_connection(("127.0.0.1", s.port), timeout=20)
            idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            check(read_response(idle)[0] == 200, "keep-alive answered")
            s.proc.send_signal(signal.SIGTERM)
            wait_not_accepting(s.port, s.proc)
            check(s.proc.poll() is None, "exited with two requests in flight")
            one.sendall(b"hello")
            st, hdr, body = read_response(one)
            check(st == 200 and json.loads(body)["status"] == "ok", (st, body))
            check("connection: close" in hdr.lower(), hdr)
            check(s.proc.poll() is None, "exited with one request still in flight")
            two.sendall(b"hello")
            st, hdr, body = read_response(two)
            check(st == 200 and "connection: close" in hdr.lower(), (st, hdr))
            # the idle keep-alive connection does not hold the exit up (timeout is 30 s)
            t0 = time.monotonic()
            code = s.proc.wait(timeout=10)
            check(time.monotonic() - t0 < 10, "exit waited for an idle connection")
            for c in (one, two, idle):
                c.close()
        finally:
            finish(s)
        check(code == 0, "exit status %d after one SIGTERM: %s" % (code, s.stderr))
        # at least the two held (the keep-alive request's completion may not be counted yet:
        # libmicrohttpd notifies it just after the client has read the answer)
        held = [int(w.split()[0]) for w in s.stderr.split("stopping (")[1:]]
        check(held and held[0] >= 2 and "stopped" in s.stderr, s.stderr)


def forced_by(second):
    with TempDir() as tmp:
        s = started(tmp)
        try:
            held = hold_request(s.port)
            s.proc.send_signal(signal.SIGTERM)
            wait_not_accepting(s.port, s.proc)
            check(s.proc.poll() is None, "still draining")
            t0 = time.monotonic()
            s.proc.send_signal(second)
            code = s.proc.wait(timeout=10)
            took = time.monotonic() - t0
            held.settimeout(10)
            try:
                rest = held.recv(4096)
            except ConnectionResetError:
                rest = b""
            check(rest == b"", "the held request was answered after a forced exit: %r" % rest)
            held.close()
        finally:
            finish(s)
        check(code == 4 and took < 5, "second %s: exit %d after %.1f s" % (second.name, code, took))
        check("second signal" in s.stderr, s.stderr)


def test_second_sigterm_forces():
    forced_by(signal.SIGTERM)


def test_sigint_after_sigterm_forces():
    forced_by(signal.SIGINT)


if __name__ == "__main__":
    main([test_drain_finishes_in_flight, test_second_sigterm_forces,
          test_sigint_after_sigterm_forces])
