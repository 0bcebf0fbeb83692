#!/usr/bin/env python3
"""A keyless relay for link security tests: what an attacker on the path can do.

It sits where an initiator connects, forwards every connection to the real gateway, and keeps a
copy of every byte each side sent (DIR/conn-N-to-gateway.bin, DIR/conn-N-to-initiator.bin). It
holds no key. Connection N may carry one attack, applied in the initiator-to-gateway direction
once the initiator has sent AFTER TLS application-data records (RFC 8446 section 5.1: the record
header is plaintext, so a relay can count records without a key):

  frame:HEX  forward that record, then inject the bytes HEX (a plaintext link frame);
  flip       flip one bit inside that record's encrypted payload before forwarding it.

Connections after the last attack are relayed untouched, so an initiator can reconnect.
Events go to stderr as key=value lines, flushed, for the test to await:
  event=relay.listening addr=127.0.0.1:PORT
  event=relay.accepted conn=N
  event=relay.injected conn=N kind=frame|flip
  event=relay.closed conn=N by=gateway|initiator

Usage: link_relay.py --target HOST:PORT --capture-dir DIR [--after N] [--attack A]...
Stopped by SIGTERM (by pid).
"""
import argparse
import os
import signal
import socket
import sys
import threading

RECORD_HEADER = 5  # content type, legacy version (2), length (2)
HANDSHAKE = 22
APPLICATION_DATA = 23

print_lock = threading.Lock()


def event(text):
    with print_lock:
        sys.stderr.write("event=" + text + "\n")
        sys.stderr.flush()


def parse_address(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


class Connection:
    def __init__(self, number, initiator, target, capture_dir, attack, after):
        self.number = number
        self.initiator = initiator
        self.gateway = socket.create_connection(target)
        self.capture_dir = capture_dir
        self.attack = attack
        self.after = after
        self.lock = threading.Lock()
        self.closed_reported = False
        self.directions_left = 2

    def capture(self, direction):
        path = os.path.join(self.capture_dir, "conn-%d-to-%s.bin" % (self.number, direction))
        return open(path, "ab", buffering=0)

    def start(self):
        threading.Thread(target=self.to_gateway, daemon=True).start()
        threading.Thread(target=self.to_initiator, daemon=True).start()

    def direction_ended(self, side, sink):
        """Reports the side that closed first, before the other side can hear of it (so before
        the shutdown passes it on); the last direction to end closes both sockets."""
        with self.lock:
            first = not self.closed_reported
            self.closed_reported = True
            self.directions_left -= 1
            last = self.directions_left == 0
        if first:
            event("relay.closed conn=%d by=%s" % (self.number, side))
        shut(sink)
        if last:
            self.initiator.close()
            self.gateway.close()

    def to_initiator(self):
        with self.capture("initiator") as out:
            source_ended = copy(self.gateway, self.initiator, out)
        self.direction_ended("gateway" if source_ended else "initiator", self.initiator)

    def to_gateway(self):
        with self.capture("gateway") as out:
            if self.attack is None:
                source_ended = copy(self.initiator, self.gateway, out)
            else:
                source_ended = self.attack_records(out)
        # A send that fails means the gateway closed (or reset) its side first.
        self.direction_ended("initiator" if source_ended else "gateway", self.gateway)

    def attack_records(self, out):
        """Forwards whole TLS records, counting application data, and attacks at the chosen one.
        True when the initiator ended the stream, False when sending to the gateway failed."""
        pending = b""
        seen = 0
        first = True
        while True:
            data = receive(self.initiator)
            if not data:
                break
            out.write(data)
            pending += data
            if first and pending[0] != HANDSHAKE:
                # Not TLS (a plaintext link): nothing to count; relay it as it is.
                return send(self.gateway, pending) and copy(self.initiator, self.gateway, out)
            first = False
            while len(pending) >= RECORD_HEADER:
                length = int.from_bytes(pending[3:5], "big")
                if len(pending) < RECORD_HEADER + length:
                    break
                record = bytearray(pending[:RECORD_HEADER + length])
                pending = pending[RECORD_HEADER + length:]
                if record[0] == APPLICATION_DATA:
                    seen += 1
                injected = None
                if seen == self.after and record[0] == APPLICATION_DATA and self.attack is not None:
                    kind, _, value = self.attack.partition(":")
                    if kind == "flip":
                        record[RECORD_HEADER + length // 2] ^= 0x01
                    else:
                        injected = bytes.fromhex(value)
                    self.attack = None
                    event("relay.injected conn=%d kind=%s" % (self.number, kind))
                if not send(self.gateway, bytes(record) + (injected or b"")):
                    return False
        return send(self.gateway, pending)


def receive(sock):
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def send(sock, data):
    try:
        sock.sendall(data)
        return True
    except OSError:
        return False


def shut(sock):
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def copy(source, sink, out):
    """Relays until source ends (True) or a send to sink fails (False)."""
    while True:
        data = receive(source)
        if not data:
            return True
        out.write(data)
        if not send(sink, data):
            return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", default="127.0.0.1:0")
    parser.add_argument("--target", required=True)
    parser.add_argument("--capture-dir", required=True)
    parser.add_argument("--after", type=int, default=3, help="application-data records before the attack")
    parser.add_argument("--attack", action="append", default=[], help="frame:HEX or flip, one per connection")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    os.makedirs(args.capture_dir, exist_ok=True)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(parse_address(args.listen))
    listener.listen(64)
    host, port = listener.getsockname()
    event("relay.listening addr=%s:%d" % (host, port))
    target = parse_address(args.target)
    number = 0
    while True:
        initiator, _ = listener.accept()
        number += 1
        attack = args.attack[number - 1] if number <= len(args.attack) else None
        try:
            connection = Connection(number, initiator, target, args.capture_dir, attack, args.after)
        except OSError as e:
            event("relay.target_refused conn=%d error=%s" % (number, e.errno))
            initiator.close()
            continue
        event("relay.accepted conn=%d" % number)
        connection.start()


if __name__ == "__main__":
    main()
