#!/usr/bin/env python3
"""fakebackend.py: an SMTP backend that dies in the middle of a pipelined batch (loopback only).

    fakebackend.py [--no-pipelining] PORT LOG READYFILE [MODE...]

Offers PIPELINING (unless --no-pipelining) and XCLIENT, answers the greeting, EHLO and XCLIENT as
Postfix does. Every transaction (from its MAIL on) takes the next MODE:
  die-at-batch    close the connection once MAIL has come, without a reply
  die-after-mail  answer MAIL with 250, then close before any RCPT reply
  421-at-mail     answer MAIL with 421 (as Postfix whose idle timeout met it) and close
  idle-timeout    serve, then, if no command comes within 0.3 s of the reply to the
                  message, say 421 and close, as Postfix does after smtpd_timeout
  serve           answer MAIL, RCPT, DATA and the message with 250/354 (after
                  the modes run out, too)
Each read from a client is appended to LOG as "read: " and the bytes (repr),
so a test sees which commands came together; "connect" for each connection,
"closed" when it hung up on one.
READYFILE is written once the socket listens. Standard library only.
"""
import socket
import sys
import threading

EHLO = (
    b"250-fake.authgate.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
    b"250-XCLIENT NAME ADDR PORT PROTO HELO LOGIN\r\n250 8BITMIME\r\n"
)


class Backend:
    def __init__(self, log, modes, ehlo):
        self.log, self.modes, self.lock = log, list(modes), threading.Lock()
        self.ehlo = ehlo

    def note(self, text):
        with self.lock, open(self.log, "a") as f:
            f.write(text + "\n")

    def next_mode(self):
        with self.lock:
            return self.modes.pop(0) if self.modes else "serve"

    def serve(self, conn):
        self.note("connect")
        conn.sendall(b"220 fake.authgate.test ESMTP\r\n")
        buf, mode, in_data, idle = b"", None, False, False
        while True:
            conn.settimeout(0.3 if idle else None)
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                conn.sendall(b"421 4.4.2 fake.authgate.test Error: timeout exceeded\r\n")
                self.note("closed idle")
                return
            if not chunk:
                return
            self.note("read: %r" % chunk)
            idle = False
            buf += chunk
            replies = b""
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                line = line.rstrip(b"\r")
                if in_data:
                    if line == b".":
                        in_data = False
                        idle = mode == "idle-timeout"
                        replies += b"250 2.0.0 Ok: queued as FAKE\r\n"
                    continue
                verb = line[:4].upper()
                if verb == b"EHLO":
                    replies += self.ehlo
                elif verb == b"XCLI":
                    replies += b"220 fake.authgate.test ESMTP\r\n"
                elif verb == b"MAIL":
                    mode = self.next_mode()
                    if mode == "die-at-batch":
                        self.note("closed")
                        return
                    if mode == "421-at-mail":
                        conn.sendall(b"421 4.4.2 fake.authgate.test Error: timeout exceeded\r\n")
                        self.note("closed")
                        return
                    replies += b"250 2.1.0 Ok\r\n"
                    if mode == "die-after-mail":
                        conn.sendall(replies)
                        self.note("closed")
                        return
                elif verb == b"RCPT":
                    replies += b"250 2.1.5 Ok\r\n"
                elif verb == b"DATA":
                    in_data = True
                    replies += b"354 End data with <CR><LF>.<CR><LF>\r\n"
                elif verb == b"QUIT":
                    conn.sendall(replies + b"221 2.0.0 Bye\r\n")
                    return
                else:
                    replies += b"250 2.0.0 Ok\r\n"
            if replies:
                conn.sendall(replies)

    def handle(self, conn):
        try:
            self.serve(conn)
        except OSError:
            pass
        finally:
            conn.close()


def main():
    args, ehlo = sys.argv[1:], EHLO
    if args and args[0] == "--no-pipelining":
        args, ehlo = args[1:], EHLO.replace(b"250-PIPELINING\r\n", b"")
    port, log, ready = int(args[0]), args[1], args[2]
    backend = Backend(log, args[3:], ehlo)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    with open(ready, "w") as f:
        f.write("ready\n")
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=backend.handle, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
