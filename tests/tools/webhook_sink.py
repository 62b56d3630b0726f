#!/usr/bin/env python3
"""A webhook receiver for tests: listens on 127.0.0.1 (a free port, written to
PORT_FILE), appends each POST body as one line to BODIES_FILE, answers 200.
Usage: webhook_sink.py PORT_FILE BODIES_FILE"""
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        with open(sys.argv[2], 'ab') as f:
            f.write(body.replace(b'\n', b' ') + b'\n')
        self.send_response(200)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(('127.0.0.1', 0), Handler)
with open(sys.argv[1] + '.tmp', 'w') as f:
    f.write(str(srv.server_address[1]))
import os  # noqa: E402
os.rename(sys.argv[1] + '.tmp', sys.argv[1])
srv.serve_forever()
