#!/usr/bin/env python3
"""A second implementation of the link's opening, for interoperability tests.

Written from docs/protocol.md alone, not from lbmail's code: it derives the TLS 1.3 external PSK
from the deployment key file with HKDF-SHA256 (RFC 5869, over Python's hmac), has
`openssl s_client` make the TLS 1.3 connection with that PSK (psk_dhe_ke: s_client offers
(EC)DHE with it), ALPN "lbmail-link/3" and SNI the gateway name, then sends a HELLO frame
(version 3, role initiator) encoded here and reads the gateway's first frame back.

Prints one line and exits 0 when the gateway answered HELLO:
  hello version=3 role=2 name=NAME capabilities=C instance=I
otherwise prints what happened and exits 1 (2 for bad arguments).

Usage: link_interop.py --connect HOST:PORT --name GATEWAY_NAME --key-file FILE
                       [--identity-name NAME] [--openssl PATH] [--node-name NAME]
--identity-name derives the PSK and its identity for another gateway name (the splice test).
"""
import argparse
import hashlib
import hmac
import selectors
import subprocess
import sys
import time

LABEL = b"lbmail-link/3"
ALPN = "lbmail-link/3"
VERSION = 3
HELLO = 1
ROLE_INITIATOR = 1
ROLE_GATEWAY = 2
HEADER = 10  # magic "LB", version u8, type u8, flags u16, length u32 little-endian


def hkdf_sha256(ikm, salt, info, length):
    """RFC 5869: extract, then expand to length bytes."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def link_psk(key_file_bytes, gateway_name):
    """The PSK: the key file's bytes less one trailing newline, bound to the gateway's name."""
    ikm = key_file_bytes[:-1] if key_file_bytes.endswith(b"\n") else key_file_bytes
    return hkdf_sha256(ikm, LABEL, b"psk " + gateway_name.encode(), 32)


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_varint(data, at):
    value, shift = 0, 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError("bad varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def frame(frame_type, payload):
    return b"LB" + bytes([VERSION, frame_type]) + b"\0\0" + len(payload).to_bytes(4, "little") + payload


def hello(node_name, role, instance):
    name = node_name.encode()
    return frame(HELLO, varint(VERSION) + varint(len(name)) + name + bytes([role]) + varint(0) + varint(instance))


def decode_hello(payload):
    version, at = read_varint(payload, 0)
    length, at = read_varint(payload, at)
    name = payload[at:at + length].decode()
    at += length
    role = payload[at]
    capabilities, at = read_varint(payload, at + 1)
    instance, at = read_varint(payload, at)
    if at != len(payload):
        raise ValueError("bytes left after HELLO")
    return version, role, name, capabilities, instance


def first_frame(proc, bound_s):
    """Reads s_client's stdout (the decrypted stream) until one whole frame or end of stream."""
    data = b""
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        if len(data) >= HEADER:
            length = int.from_bytes(data[6:10], "little")
            if len(data) >= HEADER + length:
                return data[:HEADER + length]
        if not selector.select(deadline - time.monotonic()):
            break
        chunk = proc.stdout.read1(65536)
        if not chunk:
            break
        data += chunk
    return data


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--connect", required=True)
    parser.add_argument("--name", required=True, help="the gateway's name, as its HELLO must say")
    parser.add_argument("--identity-name", help="derive the PSK for this name instead")
    parser.add_argument("--key-file", required=True)
    parser.add_argument("--openssl", default="openssl")
    parser.add_argument("--node-name", default="interop-initiator")
    args = parser.parse_args()
    identity_name = args.identity_name or args.name
    with open(args.key_file, "rb") as f:
        psk = link_psk(f.read(), identity_name)
    command = [args.openssl, "s_client", "-connect", args.connect, "-tls1_3", "-quiet",
               "-psk_identity", "lbmail-link/3 " + identity_name, "-psk", psk.hex(),
               "-alpn", ALPN, "-servername", args.name, "-ciphersuites", "TLS_AES_128_GCM_SHA256"]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.stdin.write(hello(args.node_name, ROLE_INITIATOR, 0x1234))
        proc.stdin.flush()
        answer = first_frame(proc, 10)
    finally:
        proc.terminate()  # stopped by its pid; stdin stays open until then, so it did not quit early
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    if len(answer) < HEADER or answer[:2] != b"LB":
        print("no frame from the gateway (%d bytes: %r); s_client said: %s" %
              (len(answer), answer[:32], err.decode(errors="replace").strip()))
        return 1
    if answer[3] != HELLO:
        print("first frame type %d, not HELLO: %r" % (answer[3], answer[:64]))
        return 1
    version, role, name, capabilities, instance = decode_hello(answer[HEADER:])
    print("hello version=%d role=%d name=%s capabilities=%d instance=%d header_version=%d" %
          (version, role, name, capabilities, instance, answer[2]))
    return 0 if role == ROLE_GATEWAY and name == args.name and version == VERSION else 1


if __name__ == "__main__":
    sys.exit(main())
