#!/usr/bin/env python3
"""pipeclient.py: an SMTP client over implicit TLS that pipelines, and counts TLS records.

    pipeclient.py PORT USER PASSWORD FROM RCPT [RCPT...]

EHLO and AUTH PLAIN one by one, then MAIL, the RCPTs and DATA in a single TLS
write (RFC 2920). Prints every reply's last line as "reply N: TEXT" in order,
"records K": in how many TLS records the replies to MAIL and the RCPTs
came, and "group records G": the same with DATA's reply too (the proxy
answers a group in one). After a 354 it sends a short message
and prints the reply to its end; then QUIT. Records are read from the socket
one at a time and decrypted with an ssl.SSLObject, so the count is exact; a
record that carries no application data (a TLS 1.3 session ticket) is not
counted. Exit 0 once the dialogue ran to its end, 1 otherwise (what came is
printed). Standard library only.

With PIPECLIENT_BODY=FILE the message after the 354 is FILE (CRLF lines; lines
that start with a dot are stuffed), sent in 16 KB records as fast as the server
reads, with a 180 s timeout on each read or write instead of 20 s.

With PIPECLIENT_RAW=FILE, after EHLO and AUTH the client sends FILE's bytes (the
commands, CRLF lines) in one TLS write and prints every reply line that comes
as "line: TEXT" until the server closes the connection ("closed"); the other
arguments after PASSWORD are then ignored.
"""
import os
import base64
import re
import socket
import ssl
import sys

TIMEOUT = 180 if os.environ.get("PIPECLIENT_BODY") else 20


class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.inc, self.out)
        self.raw = b""
        self.text = b""
        self.records = 0
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.flush()
                self.feed_record()
        self.flush()

    def flush(self):
        data = self.out.read()
        if data:
            self.sock.sendall(data)

    def feed_record(self):
        """Read exactly one TLS record from the socket into the TLS object."""
        while len(self.raw) < 5 or len(self.raw) < 5 + int.from_bytes(self.raw[3:5], "big"):
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("server closed")
            self.raw += chunk
        n = 5 + int.from_bytes(self.raw[3:5], "big")
        self.inc.write(self.raw[:n])
        self.raw = self.raw[n:]

    def send(self, data):
        """One write: one TLS record for the whole of data."""
        self.tls.write(data)
        self.flush()

    def read_more(self):
        self.feed_record()
        got = b""
        while True:
            try:
                got += self.tls.read(65536)
            except ssl.SSLWantReadError:
                break
        self.flush()
        if got:
            self.records += 1
            self.text += got

    def reply(self):
        """One complete reply (its continuation lines too); its last line."""
        while True:
            m = re.search(rb"^(\d{3}(?: [^\r\n]*)?)\r\n", self.text, re.M)
            if m:
                self.text = self.text[m.end():]
                return m.group(1).decode("utf-8", "replace")
            self.read_more()


def main():
    port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    sender = sys.argv[4] if len(sys.argv) > 4 else ""
    rcpts = sys.argv[5:]
    c = Client(port)
    print("banner:", c.reply())
    c.send(b"EHLO pipeclient.example\r\n")
    print("ehlo:", c.reply())
    cred = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode())
    c.send(b"AUTH PLAIN " + cred + b"\r\n")
    print("auth:", c.reply())
    raw = os.environ.get("PIPECLIENT_RAW")
    if raw:
        with open(raw, "rb") as f:
            c.send(f.read())
        while True:
            try:
                print("line:", c.reply(), flush=True)
            except EOFError:
                print("closed", flush=True)
                return 0
    batch = "MAIL FROM:<%s>\r\n" % sender
    batch += "".join("RCPT TO:<%s>\r\n" % r for r in rcpts)
    batch += "DATA\r\n"
    c.send(batch.encode())
    c.records = 0
    for i in range(1 + len(rcpts)):
        print("reply %d: %s" % (i + 1, c.reply()), flush=True)
    print("records %d" % c.records, flush=True)
    data = c.reply()
    print("reply %d: %s" % (len(rcpts) + 2, data), flush=True)
    print("group records %d" % c.records, flush=True)
    body = os.environ.get("PIPECLIENT_BODY")
    if data.startswith("354") and body:
        with open(body, "rb") as f:
            text = f.read()
        text = text.replace(b"\r\n.", b"\r\n..")
        if text.startswith(b"."):
            text = b"." + text
        for at in range(0, len(text), 16384):
            c.send(text[at:at + 16384])
        c.send(b".\r\n")
        print("end:", c.reply(), flush=True)
    elif data.startswith("354"):
        c.send(b"Subject: pipelined batch\r\n\r\nbatch body 7c4e\r\n.\r\n")
        print("end:", c.reply(), flush=True)
    c.send(b"QUIT\r\n")
    print("quit:", c.reply(), flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, EOFError, ssl.SSLError) as e:
        print("error: %s" % e, flush=True)
        sys.exit(1)
