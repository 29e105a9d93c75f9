#!/usr/bin/env bash
# make_seeds.sh - rebuild tests/fuzz/seeds/ (printf, byte by byte); the
# seeds folder holds only inputs, since libFuzzer reads every file in it.
#   decode-*.bin    fuzz_decode: byte 0 = link type index (0 Ethernet,
#                   2 Linux cooked v2, 3 BSD NULL, 5 raw IP), byte 1 =
#                   wire length mode (0: = caplen), then the frame.
#   analyzer-*.bin  fuzz_analyzer: byte 0 = configuration, then records
#                   op flags dseq dack len dt [payload] (see its header).
# Both fuzzers read every seed; a seed for one is just odd input for the
# other.
set -euo pipefail
cd "$(dirname "$0")/seeds"
hex() { local b out=""; for b in $*; do out+="\\x$b"; done; printf "$out"; }
txt() { printf '%b' "$1"; }

ETH4="02 00 00 00 00 02 02 00 00 00 00 01 08 00"
# IPv4 10.0.0.1 -> 10.0.0.2, total length 60, TCP SYN 40000 -> 80 with MSS,
# SACK permitted, timestamps, NOP, window scale 7
SYN4="45 00 00 3c 00 01 40 00 40 06 00 00 0a 00 00 01 0a 00 00 02
      9c 40 00 50 00 00 00 64 00 00 00 00 a0 02 fa f0 00 00 00 00
      02 04 05 b4 04 02 08 0a 00 00 00 01 00 00 00 00 01 03 03 07"
{ hex 00 00 $ETH4 $SYN4; } >decode-eth-syn-opts.bin

# Ethernet with an 802.1Q tag, IPv6 with hop-by-hop and fragment headers,
# TCP ACK with NOP NOP SACK (1 block), payload "hi"
{ hex 00 00 02 00 00 00 00 02 02 00 00 00 00 01 81 00 00 64 86 dd
  hex 60 00 00 00 00 32 00 40                       # plen 50, next hop-by-hop
  hex fd 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01
  hex fd 00 00 00 00 00 00 00 00 00 00 00 00 00 00 02
  hex 2c 00 01 04 00 00 00 00                       # hop-by-hop -> fragment
  hex 06 00 00 01 00 00 00 07                       # fragment -> TCP, first
  hex 9c 40 00 50 00 00 10 00 00 00 20 00 80 10 01 00 00 00 00 00
  hex 01 01 05 0a 00 00 30 00 00 00 34 00           # NOP NOP SACK
  txt 'hi'; } >decode-vlan-ipv6-ext.bin

# Linux cooked v2, IPv4, PSH|ACK with "GET /"
{ hex 02 00 08 00 00 00 00 00 00 02 00 01 04 06 02 00 00 00 00 01 00 00
  hex 45 00 00 2d 00 02 40 00 40 06 00 00 0a 00 00 01 0a 00 00 02
  hex 9c 40 00 50 00 00 00 65 00 00 01 2d 50 18 fa f0 00 00 00 00
  txt 'GET /'; } >decode-sll2-ipv4.bin

# BSD NULL (AF_INET6 = 30, Darwin, little-endian), IPv6 FIN|ACK
{ hex 03 00 1e 00 00 00
  hex 60 00 00 00 00 14 06 40
  hex fd 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01
  hex fd 00 00 00 00 00 00 00 00 00 00 00 00 00 00 02
  hex 9c 40 00 50 00 00 00 65 00 00 01 2d 50 11 fa f0 00 00 00 00; } >decode-null-ipv6.bin

# raw IPv4, first fragment (MF) then a later one is separate input
{ hex 05 00 45 00 00 2d 00 03 20 00 40 06 00 00 0a 00 00 01 0a 00 00 02
  hex 9c 40 00 50 00 00 00 65 00 00 01 2d 50 18 fa f0 00 00 00 00
  txt 'GET /'; } >decode-raw-first-fragment.bin

# analyzer: handshake, pipelined GET, 404 response, server FIN, the client's
# second request after it (not ACKing the response), server RST:
# rst_before_ack with cause data_after_fin.
REQ='GET / HTTP/1.1\r\nHost: x\r\n\r\n'            # 27 bytes
RESP='HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n' # 45 bytes
{ hex 00
  hex 08 02 00 00 00 00                             # SYN c2s, options
  hex 0c 12 00 00 00 0a                             # SYN-ACK s2c, 10 ms
  hex 00 10 00 00 00 0a                             # ACK c2s
  hex 00 18 00 00 1b 01; txt "$REQ"                 # request 1
  hex 04 18 00 00 2d 05; txt "$RESP"                # 404
  hex 04 11 00 00 00 00                             # server FIN
  hex 00 18 00 d2 1b 01; txt "$REQ"                 # request 2, acks only up to before the 404
  hex 04 04 00 00 00 01                             # server RST
} >analyzer-rst-after-fin.bin

# analyzer: server closes first, client ACKs the FIN and sends its own FIN
# only after a 100 s gap: one FIN_WAIT_2 interval; a second connection is
# left in FIN_WAIT_2 at the end (censored).
{ hex 00
  hex 08 02 00 00 00 00  0c 12 00 00 00 01  00 10 00 00 00 01
  hex 09 02 00 00 00 00  0d 12 00 00 00 01  01 10 00 00 00 01
  hex 04 11 00 00 00 01  00 10 00 00 00 01          # conn 0: server FIN, ACK
  hex 05 11 00 00 00 01  01 10 00 00 00 01          # conn 1: the same
  hex 00 11 00 00 00 ff                             # conn 0: client FIN 100 s later
  hex 04 10 00 00 00 01                             # server's last ACK
} >analyzer-fin-wait-2.bin

# pcapread: whole capture files - the malformed fixtures as they are, and
# good.pcap / nanosecond.pcap rewritten in the other byte order (file and
# record headers swapped word by word, frames untouched).
for f in ../../fixtures/malformed/*.pcap ../../fixtures/malformed/*.pcapng; do
	cp "$f" "pcapread-$(basename "$f")"
done
python3 - <<'PY'
import struct
for name in ("good", "nanosecond"):
    b = open(f"../../fixtures/malformed/{name}.pcap", "rb").read()
    m, vmaj, vmin, tz, sig, snap, lt = struct.unpack("<IHHiIII", b[:24])
    out = [struct.pack(">IHHiIII", m, vmaj, vmin, tz, sig, snap, lt)]
    off = 24
    while off + 16 <= len(b):
        s, u, cl, ln = struct.unpack("<IIII", b[off:off + 16])
        out.append(struct.pack(">IIII", s, u, cl, ln) + b[off + 16:off + 16 + cl])
        off += 16 + cl
    open(f"pcapread-{name}-swapped.pcap", "wb").write(b"".join(out))
# timestamps with the top bit set, in both byte orders and precisions:
# libpcap 1.10 reads them signed in a file of the host's order, unsigned
# in a swapped one
for end, order in (("<", "le"), (">", "be")):
    for magic, prec in ((0xa1b2c3d4, "us"), (0xa1b23c4d, "ns")):
        b = struct.pack(end + "IHHiIII", magic, 2, 4, 0, 0, 65535, 1)
        for s, u in ((0xfffffff0, 0xfffff000), (0x80000000, 0x7fffffff),
                     (5, 0x80000001)):
            b += struct.pack(end + "IIII", s, u, 4, 4) + b"abcd"
        open(f"pcapread-ts-{order}-{prec}.pcap", "wb").write(b)
# Kuznetzov's modified pcap (magic a1b2cd34, 24-byte record headers):
# libpcap reads it, the in-place reader must leave it alone
b = struct.pack("<IHHiIII", 0xa1b2cd34, 2, 4, 0, 0, 65535, 1)
b += struct.pack("<IIIIIHBB", 1700000000, 0, 4, 4, 7, 0x0800, 0, 0) + b"abcd"
open("pcapread-kuznetzov.pcap", "wb").write(b)
PY

# decode-encap-*.bin: the first TCP-carrying (else first) frame of each
# capture in tests/captures/encap (tunnels, PPP, NFLOG), with the link
# type index fuzz_decode.c gives its link type (10 PPP, 14 NFLOG, ...)
python3 - ../../captures/encap/*.pcap <<'PY'
import os, struct, sys
index = {1: 0, 113: 1, 276: 2, 0: 3, 108: 4, 12: 5, 14: 6, 101: 7, 228: 8,
         229: 9, 9: 10, 50: 11, 51: 12, 104: 13, 239: 14, 105: 15, 127: 16}
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    link = struct.unpack(end + "I", data[20:24])[0] & 0xffff
    if link not in index:
        continue
    pos, frames = 24, []
    while pos + 16 <= len(data):
        caplen = struct.unpack(end + "I", data[pos + 8:pos + 12])[0]
        frames.append(data[pos + 16:pos + 16 + caplen])
        pos += 16 + caplen
    name = os.path.basename(path)[:-5]
    for i, fr in enumerate(frames[:3]):
        open(f"decode-encap-{name}-{i}.bin", "wb").write(bytes([index[link], 0]) + fr)
PY
