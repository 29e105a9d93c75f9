#!/usr/bin/env bash
# ci_doc.sh - the CI examples of docs/ci.md work as written: the nginx
# configuration, the baseline step, the GitLab job's script and the GitHub
# workflow's audit step (retry loop and all) are taken from the document
# and run, as root, in a copy of the example project with the build tree's
# lingerlab first on PATH (and a `sudo` that is only `exec`: this machine
# runs the tests as root and has none). Checked: exit 0 against the
# baseline, JUnit XML a real parser reads (a test per scenario and one
# named baseline), the comparison beside the report, and exit 1 naming
# the regression once the configuration stops lingering. The YAML of both
# jobs is parsed and the paths the CI systems read are the ones written.
source tests/lib.sh
source tests/integration/run_common.bash
DOC=docs/ci.md

# extract LANG [N]: the N-th (default 1st) ```LANG block of the document
extract() {
	awk -v lang="$1" -v want="${2:-1}" '
		$0 == "```" lang { n++; if (n == want) { on = 1; next } }
		on && $0 == "```" { exit }
		on { print }' "$DOC"
}
extract yaml 1 >"$TEST_TMP/gitlab.yml"
extract yaml 2 >"$TEST_TMP/github.yml"
got=$(python3 - "$TEST_TMP/gitlab.yml" "$TEST_TMP/github.yml" <<'PY' 2>&1
import sys, yaml, shlex
gl = yaml.safe_load(open(sys.argv[1]))
gh = yaml.safe_load(open(sys.argv[2]))
job = gl["lingerlab-audit"]
junit = job["artifacts"]["reports"]["junit"]
cmd = shlex.split(job["script"][-1])
assert cmd[0] == "lingerlab" and cmd[1] == "audit", cmd
assert cmd[cmd.index("--junit") + 1] == junit, (cmd, junit)
assert job["retry"]["exit_codes"] == [4] and job["artifacts"]["when"] == "always"
steps = gh["jobs"]["audit"]["steps"]
audit = [s for s in steps if s.get("name") == "Audit against the baseline"][0]["run"]
rep = [s for s in steps if s.get("uses", "").startswith("mikepenz/action-junit-report")][0]
assert "--junit " + rep["with"]["report_paths"] in audit
assert rep["if"] == "always()"
print("ok")
PY
)
check_eq "the GitLab job and the GitHub workflow parse as YAML, point at the JUnit file written" "ok" "$got"
# the packages both jobs install are Debian's, and cover what the build
# links (the Makefile's pkg-config modules and libnet)
pkgs=$(python3 -c 'import sys, yaml
j = yaml.safe_load(open(sys.argv[1]))["lingerlab-audit"]
line = [l for l in j["before_script"] if "apt-get install" in l][0]
print(" ".join(w for w in line.split() if not w.startswith("-") and w not in ("apt-get", "install")))' "$TEST_TMP/gitlab.yml")
missing=""
for p in $pkgs; do apt-cache show "$p" >/dev/null 2>&1 || missing="$missing $p"; done
check_eq "the GitLab job's packages are Debian 12's" "" "$missing"
gh_line=$(grep -o 'apt-get install .*' "$TEST_TMP/github.yml")
check_eq "the GitHub job installs the same build packages" \
	"$(tr ' ' '\n' <<<"$pkgs" | grep -- '-dev$' | sort | tr '\n' ' ')" \
	"$(tr ' ' '\n' <<<"$gh_line" | grep -- '-dev$' | sort | tr '\n' ' ')"
for mod in $(sed -n 's/^PKGS *:= *//p' Makefile); do
	pc=$(pkg-config --path "$mod" 2>/dev/null)
	owner=$(dpkg -S "$(readlink -f "$pc")" 2>/dev/null | cut -d: -f1)
	# (libpcap-dev is the name to install; it depends on libpcap0.8-dev)
	check "the jobs install $mod's pkg-config package ($owner)" bash -c '
		[ -n "$1" ] || exit 1
		for p in $2; do
			[ "$p" = "$1" ] && exit 0
			apt-cache depends "$p" 2>/dev/null | grep -qx "  Depends: $1" && exit 0
		done
		exit 1' _ "$owner" "$pkgs"
done

need_lab "the docs/ci.md examples"
if ! command -v nginx >/dev/null; then
	skip "the docs/ci.md examples (nginx not installed; make deps installs nginx-light)"
	finish
fi

# the example project
proj=$TEST_TMP/proj
mkdir -p "$proj/ci/www" "$TEST_TMP/bin"
extract nginx >"$proj/ci/nginx.conf"
printf '<html><body>ok</body></html>\n' >"$proj/ci/www/index.html"
head -c 4194304 /dev/urandom >"$proj/ci/www/large.bin"
ln -s "$LINGERLAB" "$TEST_TMP/bin/lingerlab"
printf '#!/bin/sh\nexec "$@"\n' >"$TEST_TMP/bin/sudo"
chmod +x "$TEST_TMP/bin/sudo"
export PATH="$TEST_TMP/bin:$PATH"

# the baseline step, then the GitLab job's script, as written
extract sh >"$TEST_TMP/baseline.sh"
(cd "$proj" && bash -e "$TEST_TMP/baseline.sh") >"$TEST_TMP/baseline.out" 2>&1
check_eq "docs/ci.md: the baseline step" 0 "$?"
check_jq "... made ci/lingerlab-baseline.json, an audit report" "$proj/ci/lingerlab-baseline.json" \
	'.command == "audit" and .lab.target.kind == "serve"'
gitlab_script=$(python3 -c 'import sys, yaml; print("\n".join(yaml.safe_load(open(sys.argv[1]))["lingerlab-audit"]["script"]))' "$TEST_TMP/gitlab.yml")
(cd "$proj" && bash -e -c "$gitlab_script") >"$TEST_TMP/gitlab.out" 2>&1
check_eq "docs/ci.md: the GitLab job's script passes against its baseline (exit 0)" 0 "$?"
junit() { # junit FILE: "tests failures errors | baseline:N"
	python3 - "$1" <<'PY' 2>&1
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
b = [len(t.findall("failure")) for t in r.iter("testcase") if t.get("name") == "baseline"]
print(r.get("tests"), r.get("failures"), r.get("errors"), "| baseline:%s" % (b[0] if b else "-"))
PY
}
n=$(ls scenarios/*.scn | wc -l)
# two scenarios fail in the baseline too (written for the reference target):
# failures, but no regression
got=$(junit "$proj/lingerlab-out/junit.xml")
check "... its JUnit XML parses: a test per scenario and baseline, no regression ($got)" \
	grep -qE "^$((n + 1)) [0-9]+ 0 \| baseline:0\$" <<<"$got"
check "... the comparison is beside the report" test -s "$proj/lingerlab-out/diff.txt" -a -s "$proj/lingerlab-out/diff.json"

# the GitHub workflow's audit step, against a build that stops lingering
github_step=$(python3 -c 'import sys, yaml; s = yaml.safe_load(open(sys.argv[1]))["jobs"]["audit"]["steps"]; print([x for x in s if x.get("name") == "Audit against the baseline"][0]["run"])' "$TEST_TMP/github.yml")
sed -i 's/lingering_close on;/lingering_close off;/' "$proj/ci/nginx.conf"
rm -rf "$proj/lingerlab-out"
(cd "$proj" && bash -e -c "$github_step") >"$TEST_TMP/github.out" 2>&1
check_eq "docs/ci.md: the GitHub step fails on the regression (exit 1)" 1 "$?"
check "... named in the table" grep -q "^baseline: REGRESSION: " "$TEST_TMP/github.out"
got=$(junit "$proj/lingerlab-out/junit.xml")
check "... and in the JUnit XML's baseline test ($got)" grep -qE "^$((n + 1)) [0-9]+ 0 \| baseline:[1-9][0-9]*\$" <<<"$got"
check "... the retry loop ran once (no exit 4)" bash -c '! grep -q "(exit 4); again" "$1"' _ "$TEST_TMP/github.out"
check_eq "nginx stopped" "" "$(pgrep -f -- "nginx -p $proj/ci/")"
finish
