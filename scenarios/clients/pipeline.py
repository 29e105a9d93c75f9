#!/usr/bin/env python3
"""pipeline.py - a small pipelining HTTP/1.1 client for the lab.

Sends N GET requests for LINGERLAB_URL's host in ONE write (pipelined),
then reads until the server closes, and prints one line per response
status it could parse, then "responses: K" and, if the connection failed,
"error: NAME". Exit status: 0 when every request got a response, 1 when
some did not, 2 when the connection failed before any response.

usage: pipeline.py [N] [PATH...]   (default: 3 requests, the first for
/not_here.html, the others for /index.html)
"""
import errno
import os
import re
import socket
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 3
paths = sys.argv[2:] or (["/not_here.html"] + ["/index.html"] * (n - 1))
paths = (paths * n)[:n]
addr = os.environ["LINGERLAB_ADDR"]
port = int(os.environ["LINGERLAB_PORT"])

req = b"".join(b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (p.encode(), addr.encode())
               for p in paths)
data = b""
err = None
s = socket.create_connection((addr, port), timeout=10)
try:
    s.sendall(req)
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except OSError as e:
    err = errno.errorcode.get(e.errno, str(e))
finally:
    s.close()

statuses = re.findall(rb"HTTP/1\.[01] (\d{3})", data)
for st in statuses:
    print("status", st.decode())
print("responses:", len(statuses))
if err:
    print("error:", err)
if not statuses and err:
    sys.exit(2)
sys.exit(0 if len(statuses) >= n else 1)
