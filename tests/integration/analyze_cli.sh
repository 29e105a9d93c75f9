#!/usr/bin/env bash
# analyze_cli.sh - `lingerlab analyze` as a command: exact error messages
# and exit codes, --help, stdin/stdout, the atomic report write, JSON Lines
# and progress on a terminal only.
source tests/lib.sh
MKGOLDEN=${BUILD:-build}/tests/mkgolden
SCHEMA=reports/schema/report.schema.json
VALIDATE=tests/support/validate-json
cd "$TEST_TMP" || exit 1
REPO=$OLDPWD

"$REPO/$MKGOLDEN" . >/dev/null || { not_ok "mkgolden wrote the golden captures"; finish; }
SEED=put-seed.pcap

# expect_error WHAT EXPECTED_STDERR ARGS...: exit 2, exactly that one line
# on stderr, nothing on stdout.
expect_error() {
	local what=$1 want=$2 rc; shift 2
	"$LINGERLAB" analyze "$@" >out.txt 2>err.txt
	rc=$?
	check_eq "$what: exit code" 2 "$rc"
	check_eq "$what: message" "$want" "$(cat err.txt)"
	check_eq "$what: nothing on stdout" "" "$(cat out.txt)"
}

expect_error "missing file" \
	"lingerlab analyze: nosuch.pcap: No such file or directory" -r nosuch.pcap
echo "this is not a capture" >junk.pcap
expect_error "not a capture" \
	"lingerlab analyze: junk.pcap: unknown file format (not a pcap or pcapng capture)" -r junk.pcap
: >empty.pcap
expect_error "empty file" \
	"lingerlab analyze: empty.pcap: empty file (not a pcap or pcapng capture)" -r empty.pcap
mkdir adir
expect_error "a directory" \
	"lingerlab analyze: adir: error reading dump file: Is a directory" -r adir
expect_error "bad filter" \
	'lingerlab analyze: filter "tcp port": can'"'"'t parse filter expression: syntax error' \
	-r "$SEED" tcp port
expect_error "both -r and -i" \
	"lingerlab analyze: input: give -r FILE or -i IFACE, not both" -r "$SEED" -i lo
expect_error "neither -r nor -i" \
	"lingerlab analyze: input: give -r FILE or -i IFACE (try lingerlab analyze --help)"
expect_error "unknown long option" \
	"lingerlab analyze: unknown option: --frobnicate (try lingerlab analyze --help)" \
	--frobnicate -r "$SEED"
expect_error "unknown short option" \
	"lingerlab analyze: unknown option: -x (try lingerlab analyze --help)" -x -r "$SEED"
expect_error "missing option argument" "lingerlab analyze: -r: option needs an argument" -r
expect_error "bad -c" "lingerlab analyze: -c: expected a packet count > 0, found '0'" \
	-r "$SEED" -c 0
expect_error "bad --server-port" \
	"lingerlab analyze: --server-port: expected a port number 1-65535, found '70000'" \
	-r "$SEED" --server-port 70000
expect_error "--duration on a file" \
	"lingerlab analyze: --duration: only with -i (a live capture)" -r "$SEED" --duration 2
# -B SIZE: KiB as tcpdump's -B, or KiB/MiB/GiB; at most what libpcap takes
# (an int of bytes). A size it accepts gets as far as the -r check.
for b in 65536 64MiB 1GiB 512KiB 2097151; do
	expect_error "-B $b is a size" "lingerlab analyze: -B: only with -i (a live capture)" \
		-r "$SEED" -B "$b"
done
for b in 0 0MiB abc 64MB 64mib -5 +64 " 64" 64MiB/s 1.5MiB MiB 99999999999999999999; do
	expect_error "-B '$b' refused" \
		"lingerlab analyze: -B: expected a buffer size > 0 in KiB or with a unit (e.g. 65536, 64MiB), found '$b'" \
		-i lo -B "$b"
done
for b in 2GiB 2048MiB 2097152 17179869184GiB; do
	expect_error "-B $b too large" \
		"lingerlab analyze: -B: at most 2147483647 bytes (libpcap's limit), found '$b'" \
		-i lo -B "$b"
done
expect_error "-B without a size" "lingerlab analyze: -B: option needs an argument" -i lo -B
expect_error "report into a missing directory" \
	"lingerlab analyze: write report: nodir/r.json: No such file or directory" \
	-r "$SEED" -o nodir/r.json
expect_error "--connections on stdout with the report" \
	"lingerlab analyze: --connections: standard output already carries the report; give -o FILE" \
	-r "$SEED" --connections -
# a write that fails once begun is the disk's fault, not the user's: exit 3
# (a real full file system: tests/integration/full_disk.sh)
"$LINGERLAB" analyze -r "$SEED" -o /dev/full >out.txt 2>err.txt
check_eq "report write fails: exit 3 (environment)" 3 "$?"
check_eq "report write fails: message" \
	"lingerlab analyze: write report: /dev/full: No space left on device" "$(cat err.txt)"

# A capture cut inside its first record: the report is still written (and
# says why reading stopped), the exit code tells scripts.
head -c 500 "$SEED" >trunc.pcap
"$LINGERLAB" analyze -r trunc.pcap -o trunc.json 2>err.txt
check_eq "truncated capture: exit code" 2 "$?"
check_eq "truncated capture: message" \
	"lingerlab analyze: trunc.pcap: record 1: truncated dump file; tried to read 566 captured bytes, only got 460" \
	"$(cat err.txt)"
check_jq "truncated capture: the report names the read error" trunc.json \
	'.input.read_error == "trunc.pcap: record 1: truncated dump file; tried to read 566 captured bytes, only got 460" and .input.packets == 0'
check_jq "truncated capture: the verdict's exit code is the process's (2)" trunc.json '.verdict.exit_code == 2'

# tcpdump's habit (issue 10): options may follow the filter words
"$LINGERLAB" analyze -r "$SEED" tcp port 80 -o after.json 2>err.txt
check_eq "options after the filter: exit 0" 0 "$?"
check_jq "options after the filter: -o is an option, not filter words" after.json \
	'.input.filter == "tcp port 80" and .summary.connections == 1'
"$LINGERLAB" analyze -r "$SEED" -o dashdash.json -- tcp port 80 2>err.txt
check_jq "-- ends the options before the filter" dashdash.json '.input.filter == "tcp port 80"'

# --fail-on-hazard (CI on captures): exit 1 with a rst_before_ack, and the
# report's verdict.exit_code says the same; without a finding, 0
"$LINGERLAB" analyze -r "$SEED" --fail-on-hazard -o hz.json 2>err.txt
check_eq "--fail-on-hazard with a rst_before_ack: exit 1" 1 "$?"
check_jq "--fail-on-hazard: verdict.exit_code 1, hazard" hz.json \
	'.verdict.exit_code == 1 and .verdict.hazard == true'
"$LINGERLAB" analyze -r "$SEED" -o nohz.json 2>err.txt
check_eq "without --fail-on-hazard a hazard still exits 0" 0 "$?"
check_jq "without --fail-on-hazard: verdict.exit_code 0" nohz.json '.verdict.exit_code == 0'
"$LINGERLAB" analyze -r linger.pcap --fail-on-hazard -o lin.json 2>err.txt
check_eq "--fail-on-hazard without a finding: exit 0" 0 "$?"
check_jq "--fail-on-hazard without a finding: verdict.exit_code 0" lin.json \
	'.verdict.exit_code == 0 and .verdict.hazard == false'

"$LINGERLAB" analyze --help >help.txt 2>err.txt
check_eq "--help exits 0" 0 "$?"
check "--help prints the usage on stdout" grep -q '^usage: lingerlab analyze (-r FILE | -i IFACE)' help.txt
check_eq "--help prints nothing on stderr" "" "$(cat err.txt)"

# stdout is the default report path; stdin is "-r -"
"$LINGERLAB" analyze -r - <"$SEED" >stdout.json 2>err.txt
check_eq "report on stdout: exit 0" 0 "$?"
check "report on stdout matches the schema" "$REPO/$VALIDATE" "$REPO/$SCHEMA" stdout.json
check_eq "report on stdout: nothing on stderr" "" "$(cat err.txt)"

# The report replaces an existing file by rename (a reader never sees half
# a report), leaves no temporary file, and never replaces a device.
echo '{"old": true}' >r.json
old_inode=$(stat -c %i r.json)
"$LINGERLAB" analyze -r "$SEED" -o r.json
check_jq "-o replaces the old report" r.json '.command == "analyze" and (has("old") | not)'
check "-o wrote a new file and renamed it into place" [ "$(stat -c %i r.json)" != "$old_inode" ]
check_eq "-o leaves no temporary file" "" "$(ls -a | grep -F 'r.json.' || true)"
if need_root; then
	"$LINGERLAB" analyze -r "$SEED" -o /dev/null
	check "-o /dev/null leaves /dev/null a character device" [ -c /dev/null ]
fi

# --connections streams one line per connection; --server-port names the
# server when no handshake shows it (the seed trace has none).
"$LINGERLAB" analyze -r pipelined-404.pcap -o p.json --connections p.jsonl
check_eq "--connections: one line per connection" 1 "$(wc -l <p.jsonl)"
check "--connections lines match the schema" "$REPO/$VALIDATE" --lines connection "$REPO/$SCHEMA" p.jsonl
check_jq "--connections lines carry no timeline" p.jsonl 'has("timeline") | not'
check_jq "--connections: the connection lists its finding, as in the report" p.jsonl \
	'.finding == 0 and .findings == [0]'
check_jq "report: the connection lists its finding" p.json '.connections[0].findings == [0]'
# pipelined-404 was captured next to the client: its ACK of the whole 404
# (packet 8) left before the server's first RST (seq 1, now below its
# window: ignored) arrived; the second RST (seq 121 = RCV.NXT) resets it.
check_jq "pipelined-404: the client's side grades the finding reset_after_ack, read off the capture" p.json \
	'.findings[0] | .client_impact == "reset_after_ack" and .impact.at == "client"
	 and (.impact.estimated | not) and .impact.accepted_rst_packet == 10
	 and ([.impact.rsts[] | .accept] == ["ignored", "reset"])'
check_jq "pipelined-404: the summary counts it by grade, sender and basis" p.json \
	'.summary | .client_impact == {"reset_before_ack": 0, "reset_after_ack": 1, "no_reset": 0}
	 and .rst_before_ack_server == 1 and .rst_before_ack_client == 0
	 and .by_basis == {"evidence": 0, "timing": 1, "capture_order": 0}'
check_eq "pipelined-404: the verdict says how the client fared" \
	"1 rst_before_ack: the server reset 1 connection with up to 119 response bytes unacknowledged; at the client: 1 reset only after it had acknowledged all of it (reset_after_ack); server FIN_WAIT_2: 1 socket, peak 1" \
	"$(jq -r .verdict.text p.json)"
check_eq "pipelined-404: the finding's summary says both views" \
	"server RST (packet 9) while 119 response bytes were unacknowledged as far as the server could know; the client had acknowledged all of it before any RST it would accept (reset_after_ack)" \
	"$(jq -r '.findings[0].summary' p.json)"
"$LINGERLAB" analyze -r "$SEED" -o sp.json --server-port 1125
check_jq "--server-port names the server of a handshake-less capture" sp.json \
	'.options.server_ports == [1125] and .connections[0].server.port == 1125
	 and .connections[0].role_inferred'
check_jq "--server-port: the same RST is now the client's" sp.json \
	'.findings[0].sender == "client" and .summary.by_initiator.client == 1'
check_jq "--server-port: a client RST has no client_impact; its impact is at the server" sp.json \
	'.findings[0].client_impact == null and .findings[0].impact.at == "server"
	 and .summary.rst_before_ack_client == 1 and .summary.rst_before_ack_server == 0
	 and .summary.client_impact == {"reset_before_ack": 0, "reset_after_ack": 0, "no_reset": 0}'
check_eq "--server-port: the verdict names the client's reset only" \
	"1 rst_before_ack: the client reset 1 connection with request bytes unacknowledged" \
	"$(jq -r .verdict.text sp.json)"


# Progress: only when stderr is a terminal and the file is a few MB.
/usr/bin/python3 - big.pcap <<'PY'
import struct, sys
# 80000 copies of one 60-byte Ethernet/IPv4/TCP ACK: about 6 MB
eth = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00"
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0x4000, 64, 6, 0,
                 bytes([10, 0, 0, 2]), bytes([10, 0, 0, 1]))
tcp = struct.pack("!HHIIBBHHH", 40000, 80, 1, 1, 0x50, 0x10, 65535, 0, 0)
frame = eth + ip + tcp + b"\0" * 6
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
    for i in range(80000):
        f.write(struct.pack("<IIII", 1700000000 + i // 1000, (i % 1000) * 1000, len(frame), len(frame)))
        f.write(frame)
PY
"$LINGERLAB" analyze -r big.pcap -o big.json 2>err.txt
check_eq "no progress when stderr is not a terminal" "" "$(cat err.txt)"
script -qec "$LINGERLAB analyze -r big.pcap -o big-tty.json" tty.log >/dev/null 2>&1
check "progress on a terminal: share read and packets/s" grep -q '% read, .* packets/s' tty.log
check_jq "progress does not disturb the report" big-tty.json '.input.packets == 80000'
# --max-memory (issue 13): the bound on the connection store. 30,000 SYN
# flows nobody answers (raw IP frames) under the 1 MiB minimum: the oldest
# SYN-only flows are ended early, every one is still counted, the report
# and the verdict say so; without a bound nothing is ended early.
python3 - synflood.pcap <<'PY'
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
    for i in range(30000):
        tcp = struct.pack("!HHIIBBHHH", 1024 + i % 60000, 80, i * 7, 0, 0x50, 0x02, 65535, 0, 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0,
                         bytes([10, 1 + (i >> 16), (i >> 8) & 255, i & 255]), bytes([10, 255, 0, 1]))
        f.write(struct.pack("<IIII", 1700000000 + i // 100000, (i % 100000) * 10, 40, 40))
        f.write(ip + tcp)
PY
"$LINGERLAB" analyze -r synflood.pcap --max-memory 1MiB -o flood.json --connections flood.jsonl 2>err.txt
check_eq "--max-memory 1MiB: exit 0" 0 $?
check_jq "--max-memory: every flow counted" flood.json '.summary.connections == 30000'
check_jq "--max-memory: the bound and the peak under it" flood.json \
	'.summary.memory.limit == 1048576 and .summary.memory.peak <= 1048576'
# (a SYN alone takes about 100 bytes, an embryo: some 8,000 of them fit
# in 1 MiB, where whole connections fitted 250)
check_jq "--max-memory: SYN-only flows ended early, counted" flood.json \
	'.summary.memory.evicted_embryos > 15000 and .summary.memory.evicted_embryos < 25000 and .summary.memory.evicted == 0'
check "--max-memory: the verdict says it" \
	grep -q 'SYN-only flows ended early (memory bound 1 MiB)' <(jq -r .verdict.text flood.json)
check_eq "--max-memory: one JSON line per flow" 30000 "$(wc -l <flood.jsonl)"
check "--max-memory: the report matches the schema" "$REPO/$VALIDATE" "$REPO/$SCHEMA" flood.json
"$LINGERLAB" analyze -r synflood.pcap --max-memory none -o flood-none.json 2>err.txt
check_jq "--max-memory none: nothing ended early, no limit" flood-none.json \
	'.summary.memory.limit == null and .summary.memory.evicted_embryos == 0 and .summary.memory.peak > 1048576'
check_jq "--max-memory none: every flow counted" flood-none.json '.summary.connections == 30000'
"$LINGERLAB" analyze -r synflood.pcap -o flood-default.json 2>err.txt
check_jq "default bound: 256 MiB, nothing ended early here" flood-default.json \
	'.summary.memory.limit == 268435456 and .summary.memory.evicted_embryos == 0'
for bad in 0 12 1GB -5MiB 512KiB MiB; do
	expect_error "--max-memory $bad" \
		"lingerlab analyze: --max-memory: expected a size of at least 1MiB (e.g. 64MiB, 2GiB) or none, found '$bad'" \
		-r synflood.pcap --max-memory "$bad"
done
finish
