#!/usr/bin/env bash
# explain.sh - `lingerlab explain` tells the story of real flagged
# connections: reports that `lingerlab analyze` made of the golden captures
# (the seed's PUT trace, pipelined-404, a lingering server), with the notes a
# student needs at the right packets, plain text when stdout is not a
# terminal, colour when it is, and exact one-line errors for bad input.
source tests/lib.sh
MKGOLDEN=${BUILD:-build}/tests/mkgolden

if ! "$MKGOLDEN" "$TEST_TMP" >/dev/null; then
	not_ok "mkgolden wrote the golden captures"
	finish
fi
for c in put-seed pipelined-404 linger; do
	"$LINGERLAB" analyze -r "$TEST_TMP/$c.pcap" -o "$TEST_TMP/$c.json" 2>/dev/null ||
		not_ok "analyze $c"
done

# --- the seed's PUT trace: server FIN after its 401, then RST ------------
out=$("$LINGERLAB" explain "$TEST_TMP/put-seed.json")
check_eq "put-seed: exit 0" 0 "$?"
check "put-seed: no escape codes when stdout is not a terminal" \
	bash -c '! grep -q $'"'"'\033'"'"' <<<"$1"' _ "$out"
n_pkts=$(jq '.connections[0].timeline.packets | length' "$TEST_TMP/put-seed.json")
check_eq "put-seed: one line per timeline packet" "$n_pkts" \
	"$(grep -cE '^ +[0-9]+\.[0-9]{6}  C (-->|<--) S ' <<<"$out")"
rst=$(jq '.findings[0].rst_packet' "$TEST_TMP/put-seed.json")
check "put-seed: the finding's RST line is marked" \
	grep -qE "R .*#$rst  <- the RST\$" <<<"$out"
risk=$(jq '.findings[0].at_risk_packets[0]' "$TEST_TMP/put-seed.json")
check "put-seed: the 401 response line is marked at risk" \
	grep -qE "P\. +1:338\(337\) .*#$risk  at risk\$" <<<"$out"
check "put-seed: note on the server's FIN right after its error response" \
	grep -q "right after sending its HTTP 401 error response" <<<"$(tr '\n' ' ' <<<"$out" | sed 's/ *| */ /g')"
flat=$(tr '\n' ' ' <<<"$out" | sed 's/ *| */ /g; s/  */ /g')
check "put-seed: the RST note counts the response bytes not yet acknowledged" \
	grep -q "337 of its 337 bytes (sequence 1 to 337) were not yet acknowledged" <<<"$flat"
check "put-seed: the RST note reads the RST's sequence number as evidence" \
	grep -q "this RST answers a client segment that had acknowledged only up to 1" <<<"$flat"
# The client had ACKed the whole 401 (packet 4) before any RST reached it:
# the first RST's seq 1 is the server's stale view of its ACK, below the
# client's window (RFC 5961: dropped); packet 9's seq 338 is RCV.NXT-1
# after the server's FIN, which Linux's tcp_reset_check() accepts; later
# RSTs find nothing left to reset. No handshake: estimated in capture order.
check "put-seed: the first RST is out of the client's window and ignored" \
	grep -q "RST seq 1 reaches the client after it has ACKed up to 339: out of its window, ignored (RFC 5961)\." <<<"$flat"
check "put-seed: the client's state is an estimate, in capture order" \
	grep -q "The capture point is not next to the client, so its state when the RST arrived is estimated in capture order\." <<<"$flat"
check "put-seed: the grade at the client, reset only after it had ACKed the response" \
	grep -q "At the client: it had acknowledged all of its HTTP 401 error response before any RST it would accept (reset_after_ack)\. A Linux or BSD application can still read it from its receive buffer; a Windows one loses it" <<<"$flat"
check "put-seed: no 'connection reset by peer' instead of the error page: the client had it" \
	bash -c '! grep -q "connection reset by peer" <<<"$1"' _ "$flat"
check "put-seed: the RST the client accepts is marked on its line" \
	grep -qE "R +338:338\(0\) .*#9  <- the client accepts it: reset\$" <<<"$out"
check "put-seed: RCV.NXT-1 after the server's FIN is accepted (tcp_reset_check)" \
	grep -q "RST seq 338 reaches the client after it has ACKed up to 339: accepted: the connection is reset, but only after the client had acknowledged all of the response. (Its seq is one short of the next byte the client expects, 339: Linux accepts that once the sender's FIN is in, tcp_reset_check().)" <<<"$flat"
check "put-seed: later RSTs find the connection gone" \
	grep -q "RST seq 339 reaches the client after it has ACKed up to 339: its connection is already reset by packet 9, nothing is left to reset; ignored\." <<<"$flat"
check "put-seed: ignored RSTs are marked as such" \
	grep -qE "R +339:339\(0\) .*#11  <- the client ignores it\$" <<<"$out"
check "put-seed: note on the client's ACK of the FIN and FIN_WAIT_2" \
	grep -q "The client acknowledges the server's FIN (ack 339). The server's socket is now in FIN_WAIT_2" <<<"$flat"
check "put-seed: no handshake, so judged in capture order" \
	grep -q "judged in capture order" <<<"$flat"
check "put-seed: the verdict closes the story" \
	grep -q "^verdict: 1 rst_before_ack" <<<"$out"

# --- pipelined-404: the second request crosses the server's FIN ----------
p404=$("$LINGERLAB" explain "$TEST_TMP/pipelined-404.json")
flat=$(tr '\n' ' ' <<<"$p404" | sed 's/ *| */ /g; s/  */ /g')
check "pipelined-404: client data still arriving after the FIN, judged at the server" \
	grep -q "Meanwhile client data is still on its way: 41 bytes in 1 packet (from #5 on) reach the server only after it sent this FIN" <<<"$flat"
check "pipelined-404: the close()d server will answer it with RST" \
	grep -q "its kernel will answer that data with RST" <<<"$flat"
check "pipelined-404: the handshake places the capture point next to the client" \
	grep -q "so this capture was taken next to the client" <<<"$flat"
check "pipelined-404: 119 bytes of the 404 at risk at the server" \
	grep -q "When the server sent it, 119 of its 119 bytes (sequence 1 to 119) were not yet acknowledged as far as it could know" <<<"$flat"
# captured next to the client: its state is read, not estimated
check "pipelined-404: the RST's fate at the client, read off the capture" \
	grep -q "RST seq 1 reaches the client after it has ACKed up to 121: out of its window, ignored (RFC 5961)\. At the client: it had acknowledged all of its HTTP 404 error response before any RST it would accept (reset_after_ack)" <<<"$flat"
check "pipelined-404: not an estimate" bash -c '! grep -q "is estimated" <<<"$1"' _ "$flat"
check "pipelined-404: the second RST (seq 121 = RCV.NXT) resets the client" \
	grep -q "RST seq 121 reaches the client after it has ACKed up to 121: accepted: the connection is reset, but only after the client had acknowledged all of the response\." <<<"$flat"
check "pipelined-404: the verdict grades the finding at the client" \
	grep -q "^verdict: 1 rst_before_ack: the server reset 1 connection with up to 119 response bytes unacknowledged; at the client: 1 reset only after it had acknowledged all of it (reset_after_ack); server FIN_WAIT_2: 1 socket, peak 1\$" <<<"$p404"

# --- a lingering server: nothing flagged --------------------------------
out=$("$LINGERLAB" explain "$TEST_TMP/linger.json")
check_eq "linger: exit 0" 0 "$?"
check "linger: says nothing was flagged" grep -q "^No flagged connection\.$" <<<"$out"
check "linger: summarizes the lingering close" \
	grep -q "lingering closes (the server kept reading after its FIN): 1" <<<"$out"

# --- evidence: the RST answers a client segment (tests/support/mkpcap evidence)
tests/support/mkpcap evidence "$TEST_TMP/evidence.pcap"
"$LINGERLAB" analyze -r "$TEST_TMP/evidence.pcap" -o "$TEST_TMP/evidence.json" 2>/dev/null ||
	not_ok "analyze evidence.pcap"
check "evidence: the report matches the schema" \
	tests/support/validate-json reports/schema/report.schema.json "$TEST_TMP/evidence.json"
check_jq "evidence: judged on the RST's own evidence, ungraded at the client (no_reset)" \
	"$TEST_TMP/evidence.json" '.findings[0] | .basis == "evidence" and .evidence.packet == 10
	 and .evidence.acked == 101 and .bytes_at_risk_at_server == 100 and .client_impact == "no_reset"
	 and (.impact.estimated | not) and .impact.accepted_rst_packet == null'
check_jq "evidence: the summary counts it by basis and grade" "$TEST_TMP/evidence.json" \
	'.summary.by_basis.evidence == 1 and .summary.client_impact.no_reset == 1'
out=$("$LINGERLAB" explain "$TEST_TMP/evidence.json")
flat=$(tr '\n' ' ' <<<"$out" | sed 's/ *| */ /g; s/  */ /g')
check "evidence: the note names the proof" \
	grep -q "Evidence: this RST carries no ACK flag, and its sequence number 101 is the ACK field of a client segment: it answers that segment, so the server had the client's ACK up to 101\." <<<"$flat"
check "evidence: the RST is below the client's window, ignored" \
	grep -q "RST seq 101 reaches the client after it has ACKed up to 201: out of its window, ignored (RFC 5961)\." <<<"$flat"
check "evidence: no_reset, said as luck rather than design" \
	grep -q "At the client: it would accept none of the server's RSTs (no_reset), so it keeps its response\. That is luck, not design" <<<"$flat"
check "evidence: the verdict" grep -q "^verdict: 1 rst_before_ack: the server reset 1 connection with up to 100 response bytes unacknowledged; at the client: 1 never reset: it would accept none of the server's RSTs (no_reset)\$" <<<"$out"

# --- two findings on one connection: RSTs that cross (mkpcap crossed) -----
tests/support/mkpcap crossed "$TEST_TMP/crossed.pcap"
"$LINGERLAB" analyze -r "$TEST_TMP/crossed.pcap" -o "$TEST_TMP/crossed.json" 2>/dev/null ||
	not_ok "analyze crossed.pcap"
check_jq "crossed: one connection, both findings, the server's first" "$TEST_TMP/crossed.json" \
	'(.connections | length) == 1 and .connections[0].findings == [1, 0]
	 and .findings[1].sender == "server" and .findings[0].sender == "client"
	 and .summary.rst_before_ack_server == 1 and .summary.rst_before_ack_client == 1'
out=$("$LINGERLAB" explain "$TEST_TMP/crossed.json")
flat=$(tr '\n' ' ' <<<"$out" | sed 's/ *| */ /g; s/  */ /g')
check_eq "crossed: both findings head the connection, the server's first" \
	"server RST (packet 7)|client RST (packet 6)" \
	"$(grep -A1 '^  finding: rst_before_ack$' <<<"$out" | grep -oE '(server|client) RST \(packet [0-9]+\)' | paste -sd'|')"
check "crossed: both RSTs are marked" \
	bash -c 'grep -qE "#6  <- the RST\$" <<<"$1" && grep -qE "#7  <- the RST\$" <<<"$1"' _ "$out"
check "crossed: the client's RST told from the client's side" \
	grep -q "RST from the client: the connection is torn down at once. Cause: the client closed while server data sat unread in its socket" <<<"$flat"
check "crossed: the server's RST finds the client's end already reset" \
	grep -q "RST seq 201 reaches the client before it has ACKed any of the response: in its window, but the client had already reset its own end (packet 6), so nothing is left to reset; ignored (RFC 9293 3.10.7.1)\." <<<"$flat"
check "crossed: and the other way round" \
	grep -q "RST seq 101 reaches the server before it has ACKed any of the request: in its window, but the server had already reset its own end, so nothing is left to reset; ignored" <<<"$flat"

# --- a server that aborts: the client accepts the RST before its ACK -----
# The reference target's abort policy resets (SO_LINGER 0) right after its
# 200 response; the client holds its ACKs (ack never), so the RST's seq is
# RCV.NXT at a client that has not ACKed the response: reset_before_ack,
# the seed's hazard in full.
if need_root; then
	cat >"$TEST_TMP/abort.scn" <<'SCN'
scenario abort-unacked
about "The client holds its ACKs; an aborting server resets before any."
rtt 50ms
connect
ack never
request GET /index.html close
wait response 5s
wait closed 5s
SCN
	"$LINGERLAB" run -q --builtin abort -o "$TEST_TMP/abort.json" "$TEST_TMP/abort.scn" 2>"$TEST_TMP/abort.err"
	[ "$?" -le 1 ] || { not_ok "run --builtin abort"; diag "$(head -3 "$TEST_TMP/abort.err")"; }
	read -r cid unacked acc < <(jq -r '[.findings[] | select(.client_impact == "reset_before_ack")][0] |
		[.connection, .impact.unacked_at_accept, .impact.accepted_rst_packet] | @tsv' "$TEST_TMP/abort.json")
	check "abort: the analyzer grades a finding reset_before_ack" test -n "$cid" -a "$cid" != null
	out=$("$LINGERLAB" explain --connection "$cid" "$TEST_TMP/abort.json")
	flat=$(tr '\n' ' ' <<<"$out" | sed 's/ *| */ /g; s/  */ /g')
	check "abort: the RST reaches the client before its ACK and is accepted" \
		grep -qE "RST seq [0-9]+ reaches the client before it has ACKed any of the response: accepted: the connection is reset while $unacked response bytes are unacknowledged\." <<<"$flat"
	check "abort: the accepted RST is the finding's own" \
		grep -qE "#$acc  <- the RST\$" <<<"$out"
	check "abort: why it matters, in full" \
		grep -q "the user sees \"connection reset by peer\" instead of the response" <<<"$flat"
	check "abort: the remedy fits an abort: no lingering close" \
		grep -q "A lingering close would not help here: the server did not close with data unread, it aborted" <<<"$flat"
	check "abort: not the lingering-close cure" bash -c '! grep -q "The cure is a lingering close" <<<"$1"' _ "$flat"
	out=$("$LINGERLAB" explain --scenario abort-unacked "$TEST_TMP/abort.json")
	check_eq "abort: --scenario picks the scenario's connections" \
		"$(jq -r '.scenarios[] | select(.name == "abort-unacked") | .connections | map("connection \(.)") | join("|")' "$TEST_TMP/abort.json")" \
		"$(grep -oE '^connection [0-9]+' <<<"$out" | paste -sd'|')"
else
	skip "abort: lab runs need root"
fi

# --- every teardown gets its story; the remedy fits the cause ------------
flat=$("$LINGERLAB" explain "$TEST_TMP/put-seed.json" | tr '\n' ' ' | sed 's/ *| */ /g; s/  */ /g')
check "put-seed: how it ended, after the packets" \
	grep -q "How it ended: the server closed first (the active close): its FIN takes it through FIN_WAIT_1 and, once ACKed, FIN_WAIT_2" <<<"$flat"
check "put-seed: what the client made of each RST, with RFC 5961's reason" \
	grep -q "The server sent 4 RSTs; the client ignores 3 and answers 0 with a challenge ACK, and it accepts packet 9, which resets the connection\. That is RFC 5961 3\.2 at work: a receiver resets only on a RST whose seq is exactly the next byte it expects (RCV\.NXT)" <<<"$flat"
check "put-seed: data after the FIN, so the cure is a lingering close" \
	grep -q "The cure is a lingering close: shut down only the sending half" <<<"$flat"
flat=$("$LINGERLAB" explain --connection 1 "$TEST_TMP/linger.json" | tr '\n' ' ' | sed 's/ *| */ /g; s/  */ /g')
check "linger: the story of a lingering close ended by the client's FIN" \
	grep -q "The server closed with a lingering close: after its FIN it kept reading and discarding for [0-9.]* [mµ]*s ([0-9]* bytes)\. The client's FIN ended it: the gentle way\." <<<"$flat"
"$LINGERLAB" analyze -r "$TEST_TMP/idle-client.pcap" -o "$TEST_TMP/idle-client.json" 2>/dev/null
flat=$("$LINGERLAB" explain --connection 1 "$TEST_TMP/idle-client.json" | tr '\n' ' ' | sed 's/ *| */ /g; s/  */ /g')
check "idle client: the other side never closed" \
	grep -q "Only one side's FIN is in the capture: the other never closed before it ended\. As far as the wire shows, the client ends in CLOSE_WAIT and the server in FIN_WAIT_2\. CLOSE_WAIT: that side has the peer's FIN and has not closed itself" <<<"$flat"

# A server that gave up: its 100-byte response goes unanswered (the client
# has gone silent), it sends the same bytes twice more, 0.2 s and 0.6 s
# later, then resets. Frames, judged by hand (10 ms round trip, next to
# the server):
#   1 0.000 C S          2 0.001 S S.          3 0.010 C .
#   4 0.011 C P. 1:41    5 0.012 S P. 1:101    6 0.212 S P. 1:101 (again)
#   7 0.612 S P. 1:101 (again)                 8 1.412 S R. seq 101
# 100 bytes were never acknowledged: an rst_before_ack, but no close put
# them at risk: the server gave up retransmitting (Windows resets after
# its last retransmission; Linux drops such a socket without a RST), so a
# lingering close is no remedy. Written here, as no stack in the lab does it.
/usr/bin/python3 - "$TEST_TMP/gaveup.pcap" <<'PY'
import struct, sys
C, S = bytes([10, 0, 0, 2]), bytes([10, 0, 0, 1])
def frame(c2s, seq, ack, flags, payload=b""):
    src, dst = (C, S) if c2s else (S, C)
    sp, dp = (40000, 80) if c2s else (80, 40000)
    tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 0x50, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, src, dst)
    return b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00" + ip + tcp
c, s = 1000, 5000
req = b"GET /x HTTP/1.1\r\nHost: lab\r\n\r\n" + b"z" * 10
fr = [(0.000, frame(True, c, 0, 0x02)), (0.001, frame(False, s, c + 1, 0x12)),
      (0.010, frame(True, c + 1, s + 1, 0x10)),
      (0.011, frame(True, c + 1, s + 1, 0x18, req))]
for t in (0.012, 0.212, 0.612):
    fr.append((t, frame(False, s + 1, c + 1 + len(req), 0x18, b"x" * 100)))
fr.append((1.412, frame(False, s + 101, c + 1 + len(req), 0x14)))
out = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
for t, f in fr:
    out += struct.pack("<IIII", 1700000000 + int(t), int(round((t % 1) * 1e6)), len(f), len(f)) + f
open(sys.argv[1], "wb").write(out)
PY
"$LINGERLAB" analyze -r "$TEST_TMP/gaveup.pcap" -o "$TEST_TMP/gaveup.json" 2>/dev/null
check_jq "gave up: flagged, 100 bytes at risk, the RST is frame 8" "$TEST_TMP/gaveup.json" \
	'.findings[0].rst_packet == 8 and .findings[0].bytes_at_risk_at_server == 100'
flat=$("$LINGERLAB" explain "$TEST_TMP/gaveup.json" | tr '\n' ' ' | sed 's/ *| */ /g; s/  */ /g')
check "gave up: the remedy says so, and is not a lingering close" \
	grep -q "A lingering close would not help here: the server was not closing, it gave up\. It sent the same unacknowledged bytes 3 times over with no answer from its peer, then reset" <<<"$flat"
check "gave up: no lingering-close cure" bash -c '! grep -q "The cure is a lingering close" <<<"$1"' _ "$flat"

# --- Markdown, for slides and course notes --------------------------------
md=$("$LINGERLAB" explain --format markdown "$TEST_TMP/put-seed.json")
check_eq "markdown: exit 0" 0 "$?"
check "markdown: a title and a heading per connection" \
	bash -c 'head -1 <<<"$1" | grep -q "^# " && grep -q "^## connection 1 " <<<"$1"' _ "$md"
check_eq "markdown: code fences open and close in pairs" 0 $(( $(grep -c '^```' <<<"$md") % 2 ))
check_eq "markdown: every packet line inside a fence" "$n_pkts" \
	"$(awk '/^```/ { f = !f; next } f' <<<"$md" | grep -cE '^ +[0-9]+\.[0-9]{6}  C (-->|<--) S ')"
check "markdown: notes are block quotes, outside the fences" \
	bash -c 'awk "/^\`\`\`/ { f = !f; next } !f && /^> RST from the server: the connection is torn down at once\./ { ok = 1 } END { exit !ok }" <<<"$1"' _ "$md"
check "markdown: no escape codes, whatever --color says" \
	bash -c '! "$1" explain --format markdown --color=always "$2" | grep -q $'"'"'\033'"'"'' _ "$LINGERLAB" "$TEST_TMP/put-seed.json"
check "markdown: the verdict in bold" grep -q '^\*\*verdict:\*\* 1 rst_before_ack' <<<"$md"
err=$("$LINGERLAB" explain --format html "$TEST_TMP/put-seed.json" 2>&1 >/dev/null)
check_eq "--format html: exit 2 and one exact line" \
	"2 lingerlab explain: --format: expected text or markdown, found 'html'" "$? $err"
txt=$("$LINGERLAB" explain --color=never "$TEST_TMP/put-seed.json")
check "--color=never: plain text, nothing but printable characters, tabs and newlines" \
	bash -c '! LC_ALL=C grep -q "[[:cntrl:]]" <<<"$(tr -d "\n\t" <<<"$1")"' _ "$txt"

# --- --scenario ------------------------------------------------------------
err=$("$LINGERLAB" explain --scenario put-unauthorized "$TEST_TMP/put-seed.json" 2>&1 >/dev/null)
check_eq "--scenario on an analyze report: exit 2 and one exact line" \
	"2 lingerlab explain: --scenario: $TEST_TMP/put-seed.json is not a lab report (it has no scenarios; lingerlab run and audit write them)" "$? $err"
err=$("$LINGERLAB" explain --scenario nope tests/fixtures/reports/handmade-lab-close.json 2>&1 >/dev/null)
check_eq "--scenario of a name the report lacks: exit 2, the names it has" \
	"2 lingerlab explain: --scenario: tests/fixtures/reports/handmade-lab-close.json has no scenario 'nope' (it has put-unauthorized, clean-close)" "$? $err"
out=$("$LINGERLAB" explain --scenario clean-close tests/fixtures/reports/handmade-lab-close.json)
check_eq "--scenario of a scenario without connections: exit 0, and says so" \
	"0 Scenario clean-close made no connection." "$? $(tail -1 <<<"$out")"
err=$("$LINGERLAB" explain --scenario clean-close --connection 1 tests/fixtures/reports/handmade-lab-close.json 2>&1 >/dev/null)
check_eq "--scenario with --connection: exit 2" \
	"2 lingerlab explain: --scenario and --connection: pick one" "$? $err"

# --- colour --------------------------------------------------------------
check "--color=always colours the RST line" \
	bash -c '"$1" explain --color=always "$2" | grep -q $'"'"'\033\[1;31m'"'"'' _ "$LINGERLAB" "$TEST_TMP/put-seed.json"
# script(1) gives explain a terminal: colour by default, none with NO_COLOR
script -qec "$LINGERLAB explain $TEST_TMP/put-seed.json" /dev/null >"$TEST_TMP/tty.out" 2>&1
check "on a terminal: colour by default" grep -q $'\033\[' "$TEST_TMP/tty.out"
NO_COLOR=1 script -qec "$LINGERLAB explain $TEST_TMP/put-seed.json" /dev/null >"$TEST_TMP/tty2.out" 2>&1
check "on a terminal with NO_COLOR set: plain" \
	bash -c 'grep -q "^verdict: " "$1" && ! grep -q $'"'"'\033\['"'"' "$1"' _ "$TEST_TMP/tty2.out"
script -qec "$LINGERLAB explain --color=never $TEST_TMP/put-seed.json" /dev/null >"$TEST_TMP/tty3.out" 2>&1
check "on a terminal with --color=never: plain" \
	bash -c 'grep -q "^verdict: " "$1" && ! grep -q $'"'"'\033\['"'"' "$1"' _ "$TEST_TMP/tty3.out"

# --- --connection and errors ---------------------------------------------
out=$("$LINGERLAB" explain --connection 1 "$TEST_TMP/put-seed.json")
check_eq "--connection 1: exit 0" 0 "$?"
check "--connection 1: explains that connection" grep -q "^connection 1 " <<<"$out"
err=$("$LINGERLAB" explain --connection 7 "$TEST_TMP/put-seed.json" 2>&1 >/dev/null)
check_eq "--connection of a connection the report lacks: exit 2" 2 "$?"
check_eq "--connection 7: the error names what the report and the capture hold" \
	"lingerlab explain: connection 7 is not in $TEST_TMP/put-seed.json (it has records for 1), and the capture cannot tell: $TEST_TMP/put-seed.pcap has no connection 7 (it holds 1)" "$err"

# --- connections the report keeps no record of: rebuilt from the capture ---
"$LINGERLAB" analyze -r "$TEST_TMP/linger.pcap" -o "$TEST_TMP/linger.json" \
	--connections "$TEST_TMP/linger.jsonl" 2>/dev/null
out=$("$LINGERLAB" explain --connection 1 "$TEST_TMP/linger.json")
check_eq "linger --connection 1: exit 0" 0 "$?"
check "linger --connection 1: rebuilt from the capture" grep -q "this one was rebuilt" <<<"$out"
check_eq "linger --connection 1: every packet of the connection on its line" \
	"$(tcpdump -nr "$TEST_TMP/linger.pcap" tcp 2>/dev/null | wc -l)" \
	"$(grep -cE '^ +[0-9]+\.[0-9]{6}  C (-->|<--) S ' <<<"$out")"
flat=$(tr '\n' ' ' <<<"$out" | sed 's/ *| */ /g; s/  */ /g')
check "linger --connection 1: the lingering server draining the body" \
	grep -q "The server acknowledges the late data without a RST: it is lingering, reading and discarding" <<<"$flat"
drained=$(jq -r '.linger.bytes_drained' "$TEST_TMP/linger.jsonl")
check "linger --connection 1: how much it drained, as the analyzer counted" \
	grep -q "It lingered [0-9.]* [mµ]*s and drained $drained bytes this way" <<<"$flat"
check_jq "linger: the lingering ended with the client's FIN" "$TEST_TMP/linger.jsonl" '.linger.ended_by == "client_fin"'
check "linger --connection 1: how the lingering ended, and that the client keeps its response" \
	grep -q "drained $drained bytes this way. The lingering ended with the client's FIN. Because it never reset, the client keeps the whole response." <<<"$flat"
"$LINGERLAB" analyze -r "$TEST_TMP/idle-client.pcap" -o "$TEST_TMP/idle.json" 2>/dev/null
flat=$("$LINGERLAB" explain --connection 1 "$TEST_TMP/idle.json" | tr '\n' ' ' | sed 's/ *| */ /g; s/  */ /g')
check "idle client: FIN_WAIT_2 until the capture ended" \
	grep -q "The server's socket is now in FIN_WAIT_2.* Here it never came: the socket was still in FIN_WAIT_2 when the capture ended" <<<"$flat"
err=$("$LINGERLAB" explain --color=sometimes "$TEST_TMP/put-seed.json" 2>&1 >/dev/null)
check_eq "--color with a bad value: exit 2" 2 "$?"
check_eq "--color=sometimes: exact error" \
	"lingerlab explain: --color: expected auto, always or never, found 'sometimes'" "$err"
head -c 300 "$TEST_TMP/put-seed.json" >"$TEST_TMP/cut.json"
err=$("$LINGERLAB" explain "$TEST_TMP/cut.json" 2>&1 >/dev/null)
check_eq "truncated report: exit 2" 2 "$?"
check "truncated report: one line saying it is truncated JSON" \
	grep -qE "^lingerlab explain: $TEST_TMP/cut.json:[0-9]+:[0-9]+: truncated JSON: .+\$" <<<"$err"
check_eq "truncated report: exactly one line" 1 "$(wc -l <<<"$err")"
finish
