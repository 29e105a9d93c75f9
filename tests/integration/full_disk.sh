#!/usr/bin/env bash
# full_disk.sh - a full disk is named for what it is: on a 64 KiB tmpfs
# filled up, `run` and `audit` whose capture or report cannot be written
# exit 3 (environment) with strerror's "No space left on device" and the
# path, never 1 (a failed expectation of the server); `analyze -o` too, and
# it leaves no temporary file behind.
source tests/lib.sh
MKGOLDEN=${BUILD:-build}/tests/mkgolden

if ! need_root; then skip "mounting a tmpfs needs root"; finish; fi

FULL=$TEST_TMP/full
mkdir "$FULL"
mount -t tmpfs -o size=64k lingerlab-test "$FULL" || { not_ok "mount a 64 KiB tmpfs"; finish; }
# the mount goes away on every exit, before lib.sh's temporary directory
trap 'umount "$FULL" 2>/dev/null; rm -rf "$TEST_TMP"' EXIT

# fill KIB: leave the tmpfs with only its last (64 - KIB) KiB free
fill() {
	rm -rf "${FULL:?}"/*
	dd if=/dev/zero of="$FULL/fill" bs=1k count="$1" 2>/dev/null
}
# run_expect WHAT WANT_MSG CMD...: exit 3, exactly that message
run_expect() {
	local what=$1 want=$2; shift 2
	"$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
	check_eq "$what: exit 3 (environment)" 3 "$?"
	check_eq "$what: message" "$want" "$(grep -v '^lingerlab audit: running' "$TEST_TMP/err")"
}

# --- run: the capture cannot be written (nothing free) -------------------
fill 64
run_expect "run, capture on a full disk" \
	"lingerlab run: write capture: $FULL/capture.pcap: No space left on device" \
	"$LINGERLAB" run -q --builtin close -w "$FULL/capture.pcap" -o "$FULL/report.json" \
	scenarios/clean-close.scn
check "run, capture on a full disk: no report" test ! -e "$FULL/report.json"

# --- run: the capture fits (one 4 KiB page), the report does not ---------
fill 60
run_expect "run, report on a full disk" \
	"lingerlab run: write report: $FULL/report.json: No space left on device" \
	"$LINGERLAB" run -q --builtin close -w "$FULL/capture.pcap" -o "$FULL/report.json" \
	scenarios/clean-close.scn
check "run, report on a full disk: the capture was written" \
	"$LINGERLAB" analyze -r "$FULL/capture.pcap" -o /dev/null
check_eq "run, report on a full disk: no report, no temporary file" \
	"capture.pcap fill" "$(ls "$FULL" | tr '\n' ' ' | sed 's/ $//')"

# --- audit: its capture cannot be written --------------------------------
mkdir "$TEST_TMP/scn"
cp scenarios/clean-close.scn "$TEST_TMP/scn/"
fill 64
run_expect "audit, capture on a full disk" \
	"lingerlab audit: write capture: $FULL/out/capture.pcap: No space left on device" \
	"$LINGERLAB" audit --builtin close --scenarios "$TEST_TMP/scn" -o "$FULL/out"
check_eq "audit, capture on a full disk: the directory it made is gone again" "fill" "$(ls "$FULL")"

# --- analyze -o ------------------------------------------------------------
"$MKGOLDEN" "$TEST_TMP" >/dev/null || { not_ok "mkgolden wrote the golden captures"; finish; }
fill 64
run_expect "analyze -o on a full disk" \
	"lingerlab analyze: write report: $FULL/r.json: No space left on device" \
	"$LINGERLAB" analyze -r "$TEST_TMP/put-seed.pcap" -o "$FULL/r.json"
check_eq "analyze -o on a full disk: no temporary file left" "fill" "$(ls "$FULL")"
fill 64
run_expect "analyze --connections on a full disk" \
	"lingerlab analyze: --connections: $FULL/c.jsonl: No space left on device" \
	"$LINGERLAB" analyze -r "$TEST_TMP/put-seed.pcap" -o /dev/null --connections "$FULL/c.jsonl"
finish
