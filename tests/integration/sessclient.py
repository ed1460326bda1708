#!/usr/bin/env python3
"""sessclient.py: SMTP sessions over implicit TLS, several at once, each with several messages.

    sessclient.py PORT STEP...

Steps run in order, each a word and its arguments; sessions are named, so
two sessions can be open together and take turns:
  open S USER PASSWORD   connect session S, EHLO client.example, AUTH PLAIN
  ehlo S NAME            EHLO NAME again on S (the session's HELO name changes)
  msg S ID               MAIL FROM:<USER@authgate.test>, RCPT TO:<rcpt@example.org>,
                         DATA and a message with Message-ID <ID@sessclient.test>
  waitfor FILE REGEX     wait (at most 30 s) until a line of FILE matches REGEX
  quit S                 QUIT
Prints "S ID: REPLY" for every message's final reply and "S CMD: REPLY" for
any other reply that is not the one expected; exit 0 if every reply was the
expected one (220, 250, 235, 354, 221), 1 otherwise. Standard library only.
"""
import base64
import re
import socket
import ssl
import sys
import time

TIMEOUT = 30


class Session:
    def __init__(self, name, port):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.sock = ctx.wrap_socket(raw)
        self.name, self.buf, self.ok, self.user = name, b"", True, ""

    def reply(self):
        """One complete reply (its continuation lines too); its last line."""
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return "(closed)"
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            text = line.decode("utf-8", "replace")
            if len(text) < 4 or text[3] != "-":
                return text

    def cmd(self, line, want, what=None):
        if line is not None:
            self.sock.sendall(line.encode() + b"\r\n")
        got = self.reply()
        if what is not None:
            print("%s %s: %s" % (self.name, what, got))
        if not got.startswith(want):
            self.ok = False
            if what is None:
                print("%s %s: %s" % (self.name, (line or "banner").split(" ")[0], got))
            return False
        return True


def main():
    port, steps = int(sys.argv[1]), sys.argv[2:]
    sessions, ok = {}, True
    while steps:
        word = steps.pop(0)
        if word == "open":
            name, user, pw = steps[0:3]
            del steps[0:3]
            s = sessions[name] = Session(name, port)
            s.user = user
            auth = base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode()).decode()
            s.cmd(None, "220") and s.cmd("EHLO client.example", "250") and s.cmd(
                "AUTH PLAIN " + auth, "235")
        elif word == "ehlo":
            name, helo = steps[0:2]
            del steps[0:2]
            sessions[name].cmd("EHLO " + helo, "250")
        elif word == "msg":
            name, mid = steps[0:2]
            del steps[0:2]
            s = sessions[name]
            if s.cmd("MAIL FROM:<%s@authgate.test>" % s.user, "250") and s.cmd(
                    "RCPT TO:<rcpt@example.org>", "250") and s.cmd("DATA", "354"):
                s.sock.sendall(("Message-ID: <%s@sessclient.test>\r\nSubject: %s\r\n\r\n"
                                "body of %s\r\n.\r\n" % (mid, mid, mid)).encode())
                s.cmd(None, "250", mid)
        elif word == "waitfor":
            path, regex = steps[0:2]
            del steps[0:2]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with open(path, errors="replace") as f:
                    if any(re.search(regex, line) for line in f):
                        break
                time.sleep(0.05)
            else:
                print("waitfor: no line of %s matches /%s/" % (path, regex))
                ok = False
        elif word == "quit":
            name = steps.pop(0)
            sessions[name].cmd("QUIT", "221")
            sessions[name].sock.close()
        else:
            print("unknown step " + word)
            return 1
    ok = ok and all(s.ok for s in sessions.values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
