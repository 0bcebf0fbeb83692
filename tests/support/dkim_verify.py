#!/usr/bin/env python3
"""Verifies every DKIM signature of each message file with dkimpy (an implementation
independent of lbmail's), fetching public keys from a DNS server on 127.0.0.1:PORT.

Usage: dkim_verify.py --dns-port PORT FILE...
Prints one line per signature: "FILE pass d=D s=S a=A" or "FILE fail <reason>" (also for a file
with no signature). Exit status 0 only when every signature of every file passes."""

import argparse
import logging
import sys

import dkim
import dkim.util
import dns.resolver


class LastMessage(logging.Handler):
    """Keeps what dkimpy logged last: its reason for a failed verification."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.last = ""

    def emit(self, record):
        self.last = record.getMessage()


def txt_lookup(port):
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = port

    def lookup(name, timeout=5):
        # dkimpy's dnsfunc: the record's character-strings joined (RFC 6376 3.6.2.2), or None.
        try:
            answer = resolver.resolve(name.decode("ascii"), "TXT", lifetime=timeout)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers):
            return None
        return b"".join(answer[0].strings)

    return lookup


def signature_count(message):
    head = message.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    return sum(1 for line in head.split(b"\n") if line.lower().startswith(b"dkim-signature:"))


def verify_file(path, lookup):
    with open(path, "rb") as f:
        message = f.read()
    count = signature_count(message)
    if count == 0:
        print(f"{path} fail no DKIM-Signature header")
        return False
    log = logging.getLogger(f"dkim_verify.{path}")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    handler = LastMessage()
    log.addHandler(handler)
    all_pass = True
    for idx in range(count):
        d = dkim.DKIM(message, logger=log)
        try:
            ok = d.verify(idx=idx, dnsfunc=lookup)
        except dkim.DKIMException as e:
            ok, handler.last = False, str(e)
        if ok:
            sig = d.signature_fields
            tags = {k.decode(): v.decode() for k, v in sig.items() if k in (b"d", b"s", b"a")}
            print(f"{path} pass d={tags.get('d')} s={tags.get('s')} a={tags.get('a')}")
        else:
            print(f"{path} fail signature {idx + 1}: {handler.last or 'no reason given'}")
            all_pass = False
    return all_pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dns-port", type=int, required=True)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    lookup = txt_lookup(args.dns_port)
    results = [verify_file(path, lookup) for path in args.files]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
