#!/usr/bin/env python3
"""slowbackend.py: an SMTP backend that stops reading after DATA until told (loopback only).

    slowbackend.py PORT READYFILE GOFILE SAVEFILE

Answers the greeting, EHLO (PIPELINING, SIZE 104857600, XCLIENT, 8BITMIME), XCLIENT,
MAIL and RCPT as Postfix does. After its 354 it reads nothing until GOFILE exists
(polled, at most 120 s), with a small receive buffer, so the proxy's output to it
backs up; then it reads the message, saves its text (dot-unstuffed, without the
final dot line) to SAVEFILE and answers 250. READYFILE is written once the socket
listens. One connection at a time. Standard library only.
"""
import os
import socket
import sys
import time

EHLO = (
    b"250-slow.authgate.test\r\n250-PIPELINING\r\n250-SIZE 104857600\r\n"
    b"250-XCLIENT NAME ADDR PORT PROTO HELO LOGIN\r\n250 8BITMIME\r\n"
)


def wait_go(path):
    for _ in range(2400):
        if os.path.exists(path):
            return
        time.sleep(0.05)


class Lines:
    """CRLF lines from a socket; None once the peer has closed."""

    def __init__(self, conn):
        self.conn, self.buf = conn, b""

    def next(self):
        while b"\r\n" not in self.buf:
            chunk = self.conn.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line


def serve(conn, go, save):
    conn.sendall(b"220 slow.authgate.test ESMTP\r\n")
    lines = Lines(conn)
    while True:
        line = lines.next()
        if line is None:
            return
        verb = line[:4].upper()
        if verb == b"EHLO":
            conn.sendall(EHLO)
        elif verb == b"XCLI":
            conn.sendall(b"220 slow.authgate.test ESMTP\r\n")
        elif verb == b"QUIT":
            conn.sendall(b"221 2.0.0 Bye\r\n")
            return
        elif verb == b"DATA":
            conn.sendall(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            wait_go(go)
            text = bytearray()
            while True:
                line = lines.next()
                if line is None:
                    return
                if line == b".":
                    break
                text += (line[1:] if line.startswith(b".") else line) + b"\r\n"
            with open(save, "wb") as f:
                f.write(text)
            conn.sendall(b"250 2.0.0 Ok: queued as SLOW\r\n")
        else:
            conn.sendall(b"250 2.0.0 Ok\r\n")


def main():
    port, ready, go, save = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Inherited by the accepted socket: the proxy's bytes back up in the proxy, not here.
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    srv.bind(("127.0.0.1", port))
    srv.listen(4)
    with open(ready, "w") as f:
        f.write("ready\n")
    while True:
        conn, _ = srv.accept()
        try:
            serve(conn, go, save)
        except OSError:
            pass
        finally:
            conn.close()


if __name__ == "__main__":
    main()
