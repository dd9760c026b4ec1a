#!/usr/bin/env python3
"""A tiny app for the config-sync tests: loads ROOT/current at start, reloads on SIGHUP and on
POST /reload, reports the loaded config's version hash on GET /version, and is unhealthy
(GET /health -> 503) while the loaded config contains the text "unhealthy"."""
import hashlib, http.server, json, os, signal, sys, threading

root, port, pidfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
state = {"version": "none", "healthy": False, "reloads": 0}
lock = threading.Lock()


def version_hash(d):
    # The config-sync formula: sha256 over sorted "path\0sha256hex(content)\n".
    files = {}
    for base, _, names in os.walk(d):
        for n in names:
            p = os.path.join(base, n)
            rel = os.path.relpath(p, d).replace(os.sep, "/")
            with open(p, "rb") as f:
                files[rel] = hashlib.sha256(f.read()).hexdigest()
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + files[rel].encode() + b"\n")
    return h.hexdigest(), files


def load(count=True):
    d = os.path.realpath(os.path.join(root, "current"))
    with lock:
        if count:
            state["reloads"] += 1
        if not os.path.isdir(d):
            state["version"], state["healthy"] = "none", False
            return
        v, files = version_hash(d)
        text = b"".join(open(os.path.join(d, rel), "rb").read() for rel in files)
        state["version"], state["healthy"] = v, b"unhealthy" not in text


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, code, body):
        b = body.encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def do_GET(self):
        with lock:
            s = dict(state)
        if self.path == "/health":
            self.reply(200 if s["healthy"] else 503, "ok" if s["healthy"] else "unhealthy")
        elif self.path == "/version":
            self.reply(200, s["version"])
        elif self.path == "/state":
            self.reply(200, json.dumps(s))
        else:
            self.reply(404, "no")

    def do_POST(self):
        if self.path == "/reload":
            load()
            self.reply(200, "reloaded")
        else:
            self.reply(404, "no")


srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
# Block the signals in every thread (threads inherit the mask) and take them synchronously in the
# main thread: a Python handler plus signal.pause() misses signals delivered to other threads.
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP, signal.SIGTERM})
load(count=False)
t = threading.Thread(target=srv.serve_forever, daemon=True)
t.start()
with open(pidfile + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(pidfile + ".tmp", pidfile)
while True:
    if signal.sigwait({signal.SIGHUP, signal.SIGTERM}) == signal.SIGTERM:
        os._exit(0)
    load()
