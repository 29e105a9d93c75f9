#!/usr/bin/env python3
"""client2.py MODE HOST PORT [args] - clients for the bug bash (host TCP).
put SIZE [tls] [path]     PUT SIZE bytes in 16 KiB writes, no Expect, read reply
halfclose [tls]           GET, shutdown(SHUT_WR), read to EOF
pipe3 [tls]               3 pipelined GETs (2nd malformed) in one write, read to EOF
slowread PATH RCVBUF N    GET PATH with a small receive buffer, read N bytes slowly, close
abort PATH                GET PATH, read 1 byte, close with unread data (RST)
stale WAIT [tls]          GET, wait WAIT s (a server's keep-alive timeout), GET twice more
reuse SPORT N             N GETs with Connection: close, all from source port SPORT
lingerzero close|keep-alive  GET, read, close with SO_LINGER {1,0}: RST, no FIN
"""
import socket, ssl, sys, time
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
a = sys.argv[4:]
def conn(tls, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect((host, port))
    if tls:
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); c.check_hostname=False; c.verify_mode=ssl.CERT_NONE
        s = c.wrap_socket(s)
    return s
def readall(s, limit=1<<20):
    got = b''
    s.settimeout(5)
    try:
        while len(got) < limit:
            b = s.recv(65536)
            if not b: break
            got += b
    except Exception as e:
        print('read error:', repr(e))
    return got
if mode == 'put':
    size = int(a[0]); tls = len(a) > 1 and a[1] == 'tls'; path = a[2] if len(a) > 2 else '/up.bin'
    s = conn(tls)
    s.sendall(b'PUT %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n' % (path.encode(), size))
    sent = 0
    try:
        while sent < size:
            n = min(16384, size - sent); s.sendall(b'a' * n); sent += n
    except Exception as e:
        print('write error after', sent, repr(e))
    r = readall(s); print('sent', sent, 'reply', r[:40])
    s.close()
elif mode == 'halfclose':
    tls = a and a[0] == 'tls'
    s = conn(tls)
    s.sendall(b'GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n')
    s.shutdown(socket.SHUT_WR)
    r = readall(s); print('reply', len(r), r[:30]); s.close()
elif mode == 'pipe3':
    tls = a and a[0] == 'tls'
    s = conn(tls)
    s.sendall(b'GET /index.html HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/9.9 junk\r\n\r\nGET /index.html HTTP/1.1\r\nHost: x\r\n\r\n')
    r = readall(s); print('reply', len(r), r.count(b'HTTP/1.1')); s.close()
elif mode == 'slowread':
    path, rcvbuf, n = a[0], int(a[1]), int(a[2])
    s = conn(False, rcvbuf)
    s.sendall(b'GET %s HTTP/1.1\r\nHost: x\r\n\r\n' % path.encode())
    got = 0; s.settimeout(5)
    try:
        while got < n:
            b = s.recv(4096)
            if not b: break
            got += len(b); time.sleep(0.05)
    except Exception as e: print('err', repr(e))
    print('got', got); s.close()
elif mode == 'abort':
    s = conn(False)
    s.sendall(b'GET %s HTTP/1.1\r\nHost: x\r\n\r\n' % a[0].encode())
    s.recv(1); time.sleep(0.2); s.close(); print('aborted')
if mode == 'stale':
    # GET, read the reply, wait WAIT s (past the server's keep-alive
    # timeout), GET again on the same socket, read what comes
    wait = float(a[0])
    s = conn(len(a) > 1 and a[1] == 'tls')
    s.sendall(b'GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n')
    s.settimeout(3); print('first', len(s.recv(65536)))
    time.sleep(wait)
    try:
        s.sendall(b'GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n')
        print('second', s.recv(65536)[:20])
        time.sleep(0.2)
        s.sendall(b'GET /again HTTP/1.1\r\nHost: x\r\n\r\n')
        print('third', s.recv(65536)[:20])
    except Exception as e:
        print('error', repr(e))
    s.close()
if mode == 'reuse':
    # N connections from one fixed source port, each a GET to a server
    # that closes first (the server side then sits in TIME_WAIT)
    sport, n = int(a[0]), int(a[1])
    for i in range(n):
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('127.0.0.1', sport)); s.connect((host, port))
        s.sendall(b'GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
        print(i, len(readall(s))); s.close(); time.sleep(0.05)
if mode == 'lingerzero':
    # GET with Connection: close (or keep-alive), read the reply, then
    # close with SO_LINGER {1, 0}: a RST instead of a FIN (health checkers)
    import struct
    s = conn(False)
    s.sendall(b'GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: %s\r\n\r\n' % a[0].encode())
    s.settimeout(2); print(len(s.recv(65536))); time.sleep(0.05)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); s.close()
