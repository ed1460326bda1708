#!/usr/bin/env python3
"""dnsstub.py: a tiny authoritative DNS responder for t_proxy_fcrdns (UDP, loopback only).

    dnsstub.py ADDR PORT ZONE.json QUERYLOG READYFILE

ZONE.json holds {"ptr": {QNAME: [LABEL, ...]}, "a": {QNAME: [IPV4, ...]},
"silent": [QNAME, ...], "delay": {QNAME: SECONDS}}. A PTR answer is given as a list of labels, so that a
test can hand out names no zone file would allow (spaces, CR/LF, parentheses,
over 253 characters): a PTR answer is hostile input. Names are matched without
case (a resolver may randomise it, "0x20"); the question is echoed as it came.
Every query is appended to QUERYLOG as "qname qtype" (lower case), so a test
can count lookups. A name under "silent" gets no answer at all; one under "delay" gets its answer late. Anything else:
NXDOMAIN, or an empty NOERROR for a name that has other records. READYFILE is
written once the socket is bound. Standard library only.
"""
import json
import socket
import struct
import sys
import threading

TYPE_A, TYPE_PTR, TYPE_AAAA = 1, 12, 28
TYPE_NAMES = {TYPE_A: "A", TYPE_PTR: "PTR", TYPE_AAAA: "AAAA"}


def parse_question(msg):
    """(qname in lower case, qtype, end offset of the question) or None."""
    if len(msg) < 12 or struct.unpack("!H", msg[4:6])[0] != 1:
        return None
    pos, labels = 12, []
    while True:
        if pos >= len(msg):
            return None
        n = msg[pos]
        pos += 1
        if n == 0:
            break
        if n & 0xC0 or pos + n > len(msg):
            return None  # no compression in a question
        labels.append(msg[pos:pos + n].decode("latin-1"))
        pos += n
    if pos + 4 > len(msg):
        return None
    qtype = struct.unpack("!H", msg[pos:pos + 2])[0]
    return ".".join(labels).lower(), qtype, pos + 4


def encode_name(labels):
    out = b""
    for label in labels:
        raw = label.encode("latin-1")
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def answer(msg, zone):
    q = parse_question(msg)
    if q is None:
        return None
    qname, qtype, qend = q
    if qname in zone["silent"]:
        return None
    rdatas = []
    if qtype == TYPE_PTR and qname in zone["ptr"]:
        rdatas = [encode_name(zone["ptr"][qname])]
    elif qtype == TYPE_A and qname in zone["a"]:
        rdatas = [socket.inet_aton(a) for a in zone["a"][qname]]
    known = qname in zone["ptr"] or qname in zone["a"]
    rcode = 0 if rdatas or known else 3
    flags = 0x8400 | (struct.unpack("!H", msg[2:4])[0] & 0x0100) | rcode  # QR AA, RD echoed
    head = msg[0:2] + struct.pack("!HHHHH", flags, 1, len(rdatas), 0, 0)
    body = msg[12:qend]
    for rdata in rdatas:
        # The owner is the question's name (a pointer to offset 12), class IN, TTL 300.
        body += struct.pack("!HHHIH", 0xC00C, qtype, 1, 300, len(rdata)) + rdata
    return head + body


def main():
    addr, port, zonefile, querylog, readyfile = sys.argv[1:6]
    with open(zonefile, encoding="utf-8") as f:
        raw = json.load(f)
    zone = {
        "ptr": {k.lower(): v for k, v in raw.get("ptr", {}).items()},
        "a": {k.lower(): v for k, v in raw.get("a", {}).items()},
        "silent": {k.lower() for k in raw.get("silent", [])},
        "delay": {k.lower(): float(v) for k, v in raw.get("delay", {}).items()},
    }
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((addr, int(port)))
    with open(readyfile, "w", encoding="utf-8") as f:
        f.write("ready\n")
    while True:
        msg, peer = sock.recvfrom(4096)
        q = parse_question(msg)
        if q is not None:
            with open(querylog, "a", encoding="utf-8") as f:
                f.write("%s %s\n" % (q[0], TYPE_NAMES.get(q[1], str(q[1]))))
        reply = answer(msg, zone)
        if reply is None:
            continue
        delay = zone["delay"].get(q[0], 0) if q is not None else 0
        if delay > 0:
            threading.Timer(delay, sock.sendto, (reply, peer)).start()
        else:
            sock.sendto(reply, peer)


if __name__ == "__main__":
    main()
