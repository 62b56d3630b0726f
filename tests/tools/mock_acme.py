#!/usr/bin/env python3
"""A scripted, misbehaving ACME server for the retry tests of lib/acme.

Serves HTTPS on 127.0.0.1:PORT with the given certificate.  newAccount
answers badNonce once, then 503 twice, then 201; newOrder answers 429
rateLimited with Retry-After: 7.  Every request line, its Content-Type and
User-Agent go to LOG, so a test can assert on what the client sent.

usage: mock_acme.py PORT CERT KEY LOG
"""
import http.server
import json
import ssl
import sys
import threading

PORT, CERT, KEY, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
BASE = "https://127.0.0.1:%d" % PORT
lock = threading.Lock()
state = {"nonce": 0, "acct": 0}


def problem(kind, detail):
    return {"type": "urn:ietf:params:acme:error:" + kind, "detail": detail}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def record(self):
        with lock, open(LOG, "a") as f:
            f.write("%s %s ct=%s ua=%s\n" % (self.command, self.path,
                                             self.headers.get("Content-Type"),
                                             self.headers.get("User-Agent")))

    def reply(self, status, body=None, headers=None, ctype="application/json"):
        data = json.dumps(body).encode() if body is not None else b""
        with lock:
            state["nonce"] += 1
            nonce = "nonce%d" % state["nonce"]
        self.send_response(status)
        self.send_header("Replay-Nonce", nonce)
        self.send_header("Content-Length", str(len(data)))
        if body is not None:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_HEAD(self):
        self.record()
        self.reply(200)

    def do_GET(self):
        self.record()
        if self.path == "/dir":
            self.reply(200, {"newNonce": BASE + "/nonce", "newAccount": BASE + "/acct",
                             "newOrder": BASE + "/order", "revokeCert": BASE + "/revoke",
                             "keyChange": BASE + "/kc",
                             "meta": {"externalAccountRequired": False}})
        else:
            self.reply(404, problem("malformed", "no such resource"),
                       ctype="application/problem+json")

    def do_POST(self):
        self.record()
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        if self.headers.get("Content-Type") != "application/jose+json":
            self.reply(415, problem("malformed", "wrong content type"),
                       ctype="application/problem+json")
            return
        if self.path == "/acct":
            with lock:
                state["acct"] += 1
                n = state["acct"]
            if n == 1:
                self.reply(400, problem("badNonce", "stale nonce"),
                           ctype="application/problem+json")
            elif n <= 3:
                self.reply(503, problem("serverInternal", "try again"),
                           ctype="application/problem+json")
            else:
                self.reply(201, {"status": "valid", "contact": []},
                           {"Location": BASE + "/acct/1"})
        elif self.path == "/order":
            self.reply(429, problem("rateLimited", "too many new orders recently"),
                       {"Retry-After": "7"}, ctype="application/problem+json")
        else:
            self.reply(404, problem("malformed", "no such resource"),
                       ctype="application/problem+json")


server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
