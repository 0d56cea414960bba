"""Shared helpers for the tests that drive the real civgrid binary (CLI and server)."""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

BIN = os.environ.get("CIVGRID_BIN", "civgrid")
DATA = os.environ.get("CG_TEST_DATA", os.path.join(os.path.dirname(__file__), "..", "data"))
SHARED = os.environ.get("CG_SHARED_DATA", "")
R = 6371008.8


def run(*args, check=None, env=None, stdin=None):
    """Runs civgrid with args; returns (exit status, stdout, stderr)."""
    p = subprocess.run([BIN, *args], capture_output=True, text=True, env=env, input=stdin,
                       timeout=600)
    if check is not None and p.returncode != check:
        raise AssertionError("civgrid %s exited %d, expected %d\nstdout: %s\nstderr: %s"
                             % (" ".join(args), p.returncode, check, p.stdout[-2000:],
                                p.stderr[-2000:]))
    return p.returncode, p.stdout, p.stderr


def rect_area(x0, y0, x1, y1):
    """Area in m2 of a lon/lat rectangle on the sphere of civgrid's mean radius."""
    d = math.pi / 180
    return R * R * (x1 - x0) * d * (math.sin(y1 * d) - math.sin(y0 * d))


class TempDir:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="civgrid-api-")
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


def check(cond, message):
    if not cond:
        raise AssertionError(message)


class Skipped(Exception):
    """Raised by a test that cannot run here (no root, no mount): reported, not failed."""


def main(tests):
    """Runs test functions, printing one line each and a closing count; exits 1 on failure, 77
    (skipped) when every test raised Skipped."""
    failed = skipped = 0
    for t in tests:
        try:
            t()
            print("ok   %s" % t.__name__)
        except Skipped as e:
            skipped += 1
            print("skip %s: %s" % (t.__name__, e))
        except Exception as e:  # report every failing test, not just the first
            failed += 1
            print("FAIL %s: %s" % (t.__name__, e))
    print("%d passed, %d failed, %d skipped" % (len(tests) - failed - skipped, failed, skipped))
    sys.exit(1 if failed else 77 if skipped == len(tests) else 0)
