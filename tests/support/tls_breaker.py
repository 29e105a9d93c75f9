#!/usr/bin/env python3
"""tls_breaker.py - a TLS server that breaks the handshake on purpose, for
tests of the raw client's TLS paths (tests/integration/run_tls_paths.sh).

Usage: tls_breaker.py MODE PORT CERT KEY

Listens on 0.0.0.0:PORT, takes one connection at a time, reads the
client's first bytes (its ClientHello) and then, by MODE:

  rst-hello    resets at once (SO_LINGER 0, close): a server that read the
               ClientHello and gave up, or a middlebox that kills TLS
  rst-flight   runs OpenSSL's server side over memory BIOs, sends the
               first 60 bytes of its answer (part of the ServerHello) and
               then resets
  fin-flight   as rst-flight, but closes with a FIN (an orderly close in
               the middle of the handshake)

CERT and KEY (PEM) are used by the *-flight modes. Every byte it reads
from the network goes to OpenSSL or is dropped; nothing is parsed here.
"""
import socket
import ssl
import struct
import sys


def serve(mode, port, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(16)
    while True:
        s, _ = ls.accept()
        try:
            s.settimeout(5)
            hello = s.recv(16384)
            answer = b""
            if mode != "rst-hello" and hello:
                inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
                obj = ctx.wrap_bio(inc, out, server_side=True)
                inc.write(hello)
                try:
                    obj.do_handshake()
                except ssl.SSLWantReadError:
                    pass
                answer = out.read()[:60]
            if answer:
                s.sendall(answer)
            if mode.startswith("rst"):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
        except OSError:
            pass
        finally:
            s.close()


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("rst-hello", "rst-flight", "fin-flight"):
        sys.stderr.write("usage: tls_breaker.py rst-hello|rst-flight|fin-flight PORT CERT KEY\n")
        return 2
    serve(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4])
    return 0


if __name__ == "__main__":
    sys.exit(main())
