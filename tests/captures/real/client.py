#!/usr/bin/env python3
"""client.py - a plain Linux socket client for the real-server captures.

  client.py pipeline HOST PORT [N] [GAP_MS] [LATE_MS]
      two pipelined GETs in one write (the first for a missing page), then
      N-2 more GETs, one per write, GAP_MS apart (the last one LATE_MS after
      the one before it, when given), reading as it goes.
  client.py put HOST PORT SIZE CHUNK GAP_MS [PATH]
      a PUT of SIZE bytes to PATH (default /protected/upload.bin), the body
      written CHUNK bytes at a time, GAP_MS apart, reading as it goes.

pipeline-delack and put-delack do the same with TCP_QUICKACK off, so the
client's kernel delays its pure ACKs (they wait or ride on the next write).

It closes (FIN) once the server's EOF has come and it has nothing left to
send, or at once on an error.  It prints what the application saw: bytes
received, the first status line, and how the connection ended for it.
"""
import socket, sys, time, select, errno

DELACK = False

def run(host, port, writes, gap, late=None):
    s = socket.create_connection((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if DELACK:  # delayed-ACK (pingpong) mode: ACKs wait, or ride on data
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 0)
    s.setblocking(False)
    got = b""
    eof = False
    err = None
    i = 0
    next_t = time.monotonic()
    while True:
        now = time.monotonic()
        if i < len(writes) and now >= next_t and err is None:
            try:
                n = s.send(writes[i])
            except BlockingIOError:
                pass
            except OSError as e:
                err = "send: " + errno.errorcode.get(e.errno, str(e.errno))
            else:
                if n < len(writes[i]):
                    writes[i] = writes[i][n:]
                else:
                    i += 1
                    next_t = now + (late if late is not None and i == len(writes) - 1 else gap)
        if err is not None or (eof and i >= len(writes)):
            break
        r, _, _ = select.select([s], [], [], 0 if (gap == 0 and i < len(writes)) else min(0.005, gap or 0.005))
        if r and not eof:
            try:
                d = s.recv(65536)
            except OSError as e:
                err = "recv: " + errno.errorcode.get(e.errno, str(e.errno))
                break
            if d:
                got += d
            else:
                eof = True
        if i >= len(writes) and not eof and time.monotonic() > next_t + 5:
            break
    # drain what the kernel still holds
    if err is None:
        s.setblocking(True)
        s.settimeout(2)
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    eof = True
                    break
                got += d
        except socket.timeout:
            pass
        except OSError as e:
            err = "recv: " + errno.errorcode.get(e.errno, str(e.errno))
    first = got.split(b"\r\n", 1)[0].decode("latin1") if got else ""
    print("client: received %d bytes, first line %r, eof %s, error %s, writes %d/%d"
          % (len(got), first, eof, err, i, len(writes)))
    s.close()

def main():
    global DELACK
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode.endswith("-delack"):
        DELACK = True
        mode = mode[:-len("-delack")]
    if mode == "pipeline":
        n = int(sys.argv[4]) if len(sys.argv) > 4 else 10
        gap = (int(sys.argv[5]) if len(sys.argv) > 5 else 20) / 1000
        h = "Host: lab\r\n\r\n"
        writes = [("GET /not_here.html HTTP/1.1\r\n" + h + "GET /index.html HTTP/1.1\r\n" + h).encode()]
        writes += [("GET /index.html HTTP/1.1\r\n" + h).encode()] * (n - 2)
        late = int(sys.argv[6]) / 1000 if len(sys.argv) > 6 else None
        run(host, port, writes, gap, late)
    elif mode == "put":
        size, chunk = int(sys.argv[4]), int(sys.argv[5])
        gap = int(sys.argv[6]) / 1000
        path = sys.argv[7] if len(sys.argv) > 7 else "/protected/upload.bin"
        head = ("PUT %s HTTP/1.1\r\nHost: lab\r\nContent-Length: %d\r\n\r\n" % (path, size)).encode()
        writes = [head] + [b"x" * min(chunk, size - k) for k in range(0, size, chunk)]
        run(host, port, writes, gap)
    else:
        sys.exit("usage")

main()
