#!/usr/bin/env python3
"""A STAND-IN for HashiCorp Vault, for certops' tests only.

Vault is not packaged for Debian, so the tests run this small server
instead.  It implements exactly the documented Vault HTTP API endpoints
that certops uses, with the answers Vault documents, and nothing else:

  GET  /v1/<mount>/data/<path>       KV v2 read (404 {"errors":[]} when absent)
  POST /v1/<mount>/data/<path>       KV v2 write; {"options":{"cas":N}} check-and-set:
                                     400 "check-and-set parameter did not match the
                                     current version" on a mismatch
  GET  /v1/<mount>/metadata/<path>   KV v2 metadata (current_version, versions)
  GET  /v1/auth/token/lookup-self    token lookup
  POST /v1/auth/approle/login        AppRole login -> auth.client_token
  403 {"errors":["permission denied"]} for a missing/unknown token, a token
  of another namespace (X-Vault-Namespace) or a read-only token writing.

It is not Vault: no policies language, no leases, no other engines.  The
client in lib/target/vault_kv.c follows Vault's documentation, not this
file; where they differ, this file is wrong.

Test controls (outside /v1, so never mistaken for Vault API):
  POST /_standin/race {"count": N}  the next N KV writes each find that
                                     another writer made a version first
Every request is logged to --log as one JSON line: method, path, the
X-Vault-Namespace header, and whether a token was sent (never its value).
"""
import argparse
import datetime
import json
import os
import secrets
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

LOCK = threading.Lock()
STORE = {}      # (namespace, mount, path) -> {"versions": [ {data, created_time, deletion_time, destroyed} ]}
TOKENS = {}     # token -> {"namespace": ns, "write": bool}
STATE = {"race": 0}


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vault-standin"

    def log_message(self, fmt, *args):  # quiet: the JSON log is the record
        pass

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def record(self):
        entry = {"method": self.command, "path": self.path,
                 "namespace": self.headers.get("X-Vault-Namespace"),
                 "token": bool(self.headers.get("X-Vault-Token"))}
        with LOCK, open(self.server.args.log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return None

    def auth(self, write=False):
        """The token's record, or None after answering 403."""
        tok = self.headers.get("X-Vault-Token")
        ns = self.headers.get("X-Vault-Namespace") or ""
        info = TOKENS.get(tok) if tok else None
        if info is None or info["namespace"] != ns.strip("/") or (write and not info["write"]):
            self.reply(403, {"errors": ["permission denied"]})
            return None
        return info

    def kv_route(self):
        """(mount, kind, path) of /v1/<mount>/(data|metadata)/<path>."""
        parts = self.path.split("?")[0].split("/")
        if len(parts) < 5 or parts[1] != "v1":
            return None
        mount = unquote(parts[2])
        if mount != self.server.args.mount or parts[3] not in ("data", "metadata"):
            return None
        return mount, parts[3], "/".join(unquote(p) for p in parts[4:])

    def do_GET(self):
        self.record()
        if self.path == "/v1/auth/token/lookup-self":
            info = self.auth()
            if info:
                self.reply(200, {"data": {"display_name": "token", "ttl": 3600,
                                          "policies": ["default", "certops"],
                                          "namespace_path": info["namespace"]}})
            return
        route = self.kv_route()
        if not route:
            self.reply(404, {"errors": []})
            return
        info = self.auth()
        if not info:
            return
        mount, kind, path = route
        with LOCK:
            entry = STORE.get((info["namespace"], mount, path))
            if not entry:
                self.reply(404, {"errors": []})
                return
            versions = entry["versions"]
            cur = len(versions)
            if kind == "metadata":
                self.reply(200, {"data": {
                    "cas_required": False, "created_time": versions[0]["created_time"],
                    "current_version": cur, "max_versions": 0, "oldest_version": 1,
                    "updated_time": versions[-1]["created_time"], "custom_metadata": None,
                    "versions": {str(i + 1): {"created_time": v["created_time"],
                                              "deletion_time": v["deletion_time"],
                                              "destroyed": v["destroyed"]}
                                 for i, v in enumerate(versions)}}})
                return
            v = versions[-1]
            meta = {"created_time": v["created_time"], "custom_metadata": None,
                    "deletion_time": v["deletion_time"], "destroyed": v["destroyed"],
                    "version": cur}
            if v["deletion_time"]:
                self.reply(404, {"data": {"data": None, "metadata": meta}})
                return
            self.reply(200, {"data": {"data": v["data"], "metadata": meta}})

    def do_POST(self):
        self.record()
        body = self.body()
        if body is None:
            self.reply(400, {"errors": ["failed to parse JSON input"]})
            return
        if self.path == "/_standin/race":
            STATE["race"] = int(body.get("count", 0))
            self.reply(200, {})
            return
        if self.path == "/v1/auth/approle/login":
            want = self.server.args.approle
            if not want or [body.get("role_id"), body.get("secret_id")] != want.split(":", 1):
                self.reply(400, {"errors": ["invalid role or secret ID"]})
                return
            tok = "hvs.standin-" + secrets.token_hex(12)
            TOKENS[tok] = {"namespace": (self.server.args.namespace or ""), "write": True}
            self.reply(200, {"auth": {"client_token": tok, "accessor": secrets.token_hex(8),
                                      "policies": ["default", "certops"], "lease_duration": 3600,
                                      "renewable": True}})
            return
        route = self.kv_route()
        if not route or route[1] != "data":
            self.reply(405 if route else 404, {"errors": [] if not route else ["unsupported operation"]})
            return
        info = self.auth(write=True)
        if not info:
            return
        mount, _, path = route
        data = body.get("data")
        if not isinstance(data, dict):
            self.reply(400, {"errors": ["no data provided"]})
            return
        with LOCK:
            entry = STORE.setdefault((info["namespace"], mount, path), {"versions": []})
            if STATE["race"] > 0:
                # Another writer got in first.
                STATE["race"] -= 1
                entry["versions"].append({"data": {"writer": "someone else"}, "created_time": now(),
                                          "deletion_time": "", "destroyed": False})
            cas = (body.get("options") or {}).get("cas")
            if cas is not None and cas != len(entry["versions"]):
                if not entry["versions"]:
                    del STORE[(info["namespace"], mount, path)]
                self.reply(400, {"errors": ["check-and-set parameter did not match the current version"]})
                return
            t = now()
            entry["versions"].append({"data": data, "created_time": t, "deletion_time": "",
                                      "destroyed": False})
            self.reply(200, {"data": {"created_time": t, "custom_metadata": None,
                                      "deletion_time": "", "destroyed": False,
                                      "version": len(entry["versions"])}})


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--port-file", required=True, help="where the chosen port is written")
    p.add_argument("--log", required=True)
    p.add_argument("--token", action="append", default=[], help="a token with write access")
    p.add_argument("--read-only-token", action="append", default=[])
    p.add_argument("--namespace", default="", help="the namespace the tokens belong to")
    p.add_argument("--approle", default="", help="ROLE_ID:SECRET_ID accepted by approle login")
    p.add_argument("--mount", default="secret")
    args = p.parse_args()
    ns = args.namespace.strip("/")
    for t in args.token:
        TOKENS[t] = {"namespace": ns, "write": True}
    for t in args.read_only_token:
        TOKENS[t] = {"namespace": ns, "write": False}
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.args = args
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
