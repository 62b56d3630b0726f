#!/usr/bin/env python3
"""Smart-HTTP Git server for tests: `git http-backend` behind HTTP basic auth.

Usage: git_http_server.py PORT_FILE ROOT USER PASSWORD
Listens on 127.0.0.1 (a free port, written to PORT_FILE once listening) and
serves the repositories under ROOT; every request must carry
`Authorization: Basic base64(USER:PASSWORD)`, else 401.  Each request's
result (ok, bad, - for none) is appended to ROOT/access.log."""
import base64
import http.server
import os
import subprocess
import sys

PORT_FILE, ROOT, USER, PASSWORD = sys.argv[1:5]
EXPECTED = 'Basic ' + base64.b64encode(f'{USER}:{PASSWORD}'.encode()).decode()
LOG = os.path.join(ROOT, 'access.log')


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def handle_any(self):
        auth = self.headers.get('Authorization', '')
        body = b''
        if self.command == 'POST':
            body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        with open(LOG, 'a') as f:
            f.write(('ok' if auth == EXPECTED else ('bad' if auth else '-')) + '\n')
        if auth != EXPECTED:
            self.send_response(401)
            self.send_header('WWW-Authenticate', 'Basic realm="git"')
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        path, _, query = self.path.partition('?')
        env = dict(os.environ, GIT_PROJECT_ROOT=ROOT, GIT_HTTP_EXPORT_ALL='1',
                   PATH_INFO=path, QUERY_STRING=query,
                   REQUEST_METHOD=self.command, REMOTE_USER=USER,
                   CONTENT_TYPE=self.headers.get('Content-Type', ''),
                   CONTENT_LENGTH=str(len(body)))
        out = subprocess.run(['git', 'http-backend'], input=body, env=env,
                             capture_output=True, check=False).stdout
        head, _, payload = out.partition(b'\r\n\r\n')
        status = 200
        headers = []
        for line in head.decode('latin-1').split('\r\n'):
            if not line:
                continue
            k, _, v = line.partition(':')
            if k.lower() == 'status':
                status = int(v.split()[0])
            else:
                headers.append((k, v.strip()))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = handle_any
    do_POST = handle_any


srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
with open(PORT_FILE + '.tmp', 'w') as f:
    f.write(str(srv.server_address[1]))
os.rename(PORT_FILE + '.tmp', PORT_FILE)
srv.serve_forever()
