# tests/lib.sh - helpers for integration tests (bash). Source it.
# Each check prints one TAP line: "ok - what" or "not ok - what".
# LINGERLAB and LINGERLAB_TARGET name the binaries (set by tests/run).
set -u
: "${LINGERLAB:=$PWD/build/lingerlab}"
: "${LINGERLAB_TARGET:=$PWD/build/lingerlab-target}"
TEST_TMP=$(mktemp -d /tmp/lingerlab-test.XXXXXX)
trap 'rm -rf "$TEST_TMP"' EXIT
_tap_fail=0

ok()      { echo "ok - $*"; }
not_ok()  { echo "not ok - $*"; _tap_fail=1; }
skip()    { echo "ok - $* # SKIP"; }
diag()    { echo "# $*"; }

# check "what" command...: passes when the command exits 0.
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
# check_eq "what" expected actual
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "expected: $2"; diag "actual:   $3"; fi
}
# check_jq "what" file.json 'jq expression that must be true'
check_jq() {
	if jq -e "$3" "$2" >/dev/null 2>&1; then ok "$1"; else not_ok "$1"; diag "jq: $3 is false in $2"; fi
}
need_root() { [ "$(id -u)" = 0 ]; }
finish() { exit $_tap_fail; }
