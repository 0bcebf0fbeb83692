#!/usr/bin/env python3
"""An SMTP client that speaks STARTTLS with Python's ssl module (a TLS stack apart from lbmail's).

Usage: starttls_client.py HOST PORT BEFORE AFTER [CA_FILE SERVER_NAME]
Reads the greeting, sends BEFORE in one write (it should end with STARTTLS, and may carry
commands pipelined behind it, as an attacker would inject them), reads replies until the
server's 220 to STARTTLS, does the TLS handshake (verifying the certificate for SERVER_NAME
against CA_FILE when given), sends AFTER in one write and reads until the server closes.
In BEFORE and AFTER, the two characters backslash-r and backslash-n stand for CR and LF.
Prints each reply line as it came, "TLS <version> <cipher>" after the handshake, and exits 0;
exits 1 with the reason on stderr when the server does not offer what is expected.
"""
import socket
import ssl
import sys


def unescape(text):
    return text.replace("\\r", "\r").replace("\\n", "\n").encode()


def read_reply(stream, out):
    """One whole reply (all its lines); its code, or None when the connection ends."""
    while True:
        line = stream.readline()
        if not line:
            return None
        out.append(line.decode(errors="replace").rstrip("\r\n"))
        if len(line) >= 4 and line[3:4] == b" ":
            return int(line[:3])


def main():
    host, port, before, after = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ca_file = sys.argv[5] if len(sys.argv) > 5 else None
    server_name = sys.argv[6] if len(sys.argv) > 6 else None
    lines = []
    sock = socket.create_connection((host, port), timeout=20)
    plain = sock.makefile("rb")
    if read_reply(plain, lines) != 220:
        sys.exit("no greeting: %r" % lines)
    sock.sendall(unescape(before))
    while True:
        code = read_reply(plain, lines)
        if code is None:
            print("\n".join(lines))
            sys.exit("connection closed before the 220 to STARTTLS")
        if code == 220:
            break
    context = ssl.create_default_context(cafile=ca_file) if ca_file else ssl._create_unverified_context()
    tls = context.wrap_socket(sock, server_hostname=server_name)
    lines.append("TLS %s %s" % (tls.version(), tls.cipher()[0]))
    tls.sendall(unescape(after))
    secure = tls.makefile("rb")
    while read_reply(secure, lines) is not None:
        pass
    print("\n".join(lines))


if __name__ == "__main__":
    main()
