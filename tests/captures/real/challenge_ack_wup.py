#!/usr/bin/env python3
"""challenge_ack_wup.py - does a Linux receiver's challenge ACK move RCV.WUP?

Run as root inside a throwaway network namespace (its own loopback):

    ip netns add llreal-exp && ip -n llreal-exp link set lo up
    ip netns exec llreal-exp python3 challenge_ack_wup.py [control]
    ip netns del llreal-exp

A client socket (TCP_QUICKACK off, so it delays its ACK) receives 100
bytes; before it ACKs them, two forged RSTs from the server's port arrive
with seq = the client's last ACK, that is RCV.WUP: in the window, not
RCV.NXT. The first draws a challenge ACK
(TcpExtTCPChallengeACK 1). If the second were still in the window it would
reach tcp_send_challenge_ack again and be rate-limited
(TcpExtTCPACKSkippedChallenge 1); with `control` the second RST's seq is
RCV.NXT + 10, in the window either way, and that is what happens. Without
`control`, on Linux 6.18: TCPChallengeACK 1, TCPACKSkippedChallenge 0: the
second RST was out of the window, because the challenge ACK set RCV.WUP to
RCV.NXT. Both leave the connection alive.
"""
import sys
import socket, struct, time, subprocess, os
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b)//2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def rst(sport, dport, seq):
    src = dst = socket.inet_aton('127.0.0.1')
    tcp = struct.pack('!HHIIBBHHH', sport, dport, seq, 0, 5 << 4, 0x04, 0, 0, 0)
    ph = src + dst + struct.pack('!BBH', 0, 6, len(tcp))
    c = csum(ph + tcp)
    tcp = tcp[:16] + struct.pack('!H', c) + tcp[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    r.sendto(ip + tcp, ('127.0.0.1', 0))
sn = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
sn.bind(('lo', 0)); sn.setblocking(False)
pk = []
def sniff():
    while True:
        try: d = sn.recv(2000)
        except BlockingIOError: return
        ip = d[14:]
        if ip[9] != 6: continue
        ihl = (ip[0] & 15) * 4; t = ip[ihl:]
        sp, dp, seq, ack, off, fl = struct.unpack('!HHIIBB', t[:14])
        plen = struct.unpack('!H', ip[2:4])[0] - ihl - (off >> 4) * 4
        if 5000 in (sp, dp): pk.append((time.monotonic(), sp, dp, seq, ack, fl, plen))
def counters():
    out = subprocess.run(['nstat', '-az', 'TcpExtTCPChallengeACK', 'TcpExtTCPACKSkippedChallenge'], capture_output=True, text=True).stdout
    return {l.split()[0]: int(l.split()[1]) for l in out.splitlines() if l.startswith('TcpExt')}
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', 5000)); srv.listen()
cli = socket.create_connection(('127.0.0.1', 5000)); conn, _ = srv.accept()
cport = cli.getsockname()[1]
for i in range(8):
    cli.send(b'q'); conn.recv(10); time.sleep(0.01); conn.send(b'r' * 10); cli.recv(10); time.sleep(0.01)
time.sleep(0.3); sniff()
lastc = [p for p in pk if p[1] == cport][-1]
A = lastc[4]  # the client's last ACK value
cli.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 0)
c0 = counters(); n0 = len(pk)
conn.send(b'X' * 100)
rst(5000, cport, A)           # RST1: seq = the client's last ACK (old RCV.WUP), < RCV.NXT
time.sleep(0.002)
rst(5000, cport, A + 110 if sys.argv[1:] == ['control'] else A)  # RST2, 2 ms later
time.sleep(0.3); sniff()
c1 = counters()
print('client port', cport, 'client last ACK before', A)
for p in pk[n0:]:
    print('%+.6f %5d>%5d seq %d ack %d flags %#x len %d' % (p[0] - pk[n0][0], p[1], p[2], p[3], p[4], p[5], p[6]))
print('counters before', c0, 'after', c1)
try:
    print('client reads', len(cli.recv(1000)), 'bytes; connection alive')
except OSError as e:
    print('client error', e)
