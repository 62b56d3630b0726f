#!/usr/bin/env python3
"""A minimal tls-alpn-01 responder (RFC 8737) for lib/acme's tests.

Listens on 127.0.0.1:PORT, negotiates ALPN "acme-tls/1" and, by SNI,
presents DIR/<name>.crt with DIR/<name>.key, files that the ACME client
writes once it knows the challenge.  Each handshake is logged to stdout.

usage: tlsalpn_responder.py PORT DIR
"""
import os
import socket
import ssl
import sys

PORT, DIR = int(sys.argv[1]), sys.argv[2]


def context_for(name):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_alpn_protocols(["acme-tls/1"])
    ctx.load_cert_chain(os.path.join(DIR, name + ".crt"), os.path.join(DIR, name + ".key"))
    return ctx


def on_sni(sock, name, ctx):
    try:
        sock.context = context_for(name or "")
    except OSError:
        return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
    return None


base = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
base.set_alpn_protocols(["acme-tls/1"])
base.sni_callback = on_sni
listener = socket.create_server(("127.0.0.1", PORT))
print("listening", flush=True)
while True:
    conn, _ = listener.accept()
    conn.settimeout(10)
    try:
        tls = base.wrap_socket(conn, server_side=True)
        print("handshake alpn=%s" % tls.selected_alpn_protocol(), flush=True)
        tls.close()
    except (ssl.SSLError, OSError) as e:
        print("failed: %s" % e, flush=True)
        conn.close()
