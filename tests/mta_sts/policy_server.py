#!/usr/bin/env python3
"""An HTTPS server for MTA-STS tests: policies for test domains, good and bad.

It makes its own PKI with the openssl command in DIR: a CA (DIR/ca.pem, the file a test trusts),
a leaf certificate for every host in the routes, and an already expired leaf for the hosts
listed as expired (chosen by SNI). Each host's route says what GET answers, whatever the path:

  {"hosts": {"mta-sts.good.test": {"status": 200, "type": "text/plain", "body": "...",
                                   "location": "https://...", "length": true}},
   "expired": ["mta-sts.old.test"]}

Events go to stderr as key=value lines, flushed, for the test to await:
  event=policy_server.listening addr=127.0.0.1:PORT (or [::1]:PORT)
  event=policy_server.request host=HOST path=PATH

Usage: policy_server.py --dir DIR --routes ROUTES.json [--bind 127.0.0.1|::1]. Stopped by SIGTERM
(by pid).
"""
import argparse
import http.server
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading

print_lock = threading.Lock()


def event(text):
    with print_lock:
        sys.stderr.write("event=" + text + "\n")
        sys.stderr.flush()


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_leaf(directory, name, hosts, days):
    """A P-256 leaf for hosts signed by the CA; days may be negative (already expired)."""
    key, csr, pem = (os.path.join(directory, name + ext) for ext in (".key", ".csr", ".pem"))
    ext = os.path.join(directory, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=" + ",".join("DNS:" + h for h in hosts) + "\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
            "-out", csr, "-subj", "/CN=" + hosts[0])
    openssl("x509", "-req", "-in", csr, "-CA", os.path.join(directory, "ca.pem"), "-CAkey",
            os.path.join(directory, "ca.key"), "-CAcreateserial", "-days", str(days), "-extfile", ext,
            "-out", pem)
    return pem, key


def make_contexts(directory, hosts, expired):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", os.path.join(directory, "ca.key"), "-out", os.path.join(directory, "ca.pem"),
            "-days", "30", "-subj", "/CN=lbmail MTA-STS test CA")
    good = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    good.load_cert_chain(*make_leaf(directory, "good", [h for h in hosts if h not in expired] or ["none.test"], 30))
    old = None
    if expired:
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        old.load_cert_chain(*make_leaf(directory, "expired", expired, -1))

    def choose(sock, server_name, _context):
        if old is not None and server_name in expired:
            sock.context = old
    good.sni_callback = choose
    return good


def handler_for(hosts):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
            event("policy_server.request host=%s path=%s" % (host, self.path))
            route = hosts.get(host)
            if route is None:
                self.send_error(404)
                return
            body = route.get("body", "").encode()
            self.send_response(route.get("status", 200))
            self.send_header("Content-Type", route.get("type", "text/plain"))
            if "location" in route:
                self.send_header("Location", route["location"])
            # Without a length (HTTP/1.0) the body ends when the connection closes.
            if route.get("length", True):
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass
    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--routes", required=True)
    parser.add_argument("--bind", default="127.0.0.1")
    args = parser.parse_args()
    with open(args.routes) as f:
        routes = json.load(f)
    hosts = routes.get("hosts", {})
    expired = routes.get("expired", [])
    context = make_contexts(args.dir, list(hosts), expired)
    v6 = ":" in args.bind

    class Server(http.server.ThreadingHTTPServer):
        address_family = socket.AF_INET6 if v6 else socket.AF_INET

    server = Server((args.bind, 0), handler_for(hosts))
    server.daemon_threads = True
    # A failed handshake (the client refused the certificate) raises in accept(), which
    # socketserver treats as a failed request and goes on.
    server.socket = context.wrap_socket(server.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    host = "[%s]" % args.bind if v6 else args.bind
    event("policy_server.listening addr=%s:%d" % (host, server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
