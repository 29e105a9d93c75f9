/*
 * fuzz_report.c - libFuzzer target over the report readers: what `explain`,
 * `render` and `diff` do with a JSON report (reports/reportfile.h,
 * reports/diffrep.h, reports/render.h, reports/cmd_explain.c,
 * reports/cmd_diff.c).
 *
 * Input: one report, or two separated by a NUL byte (BASE, then NEW; a
 * JSON text holds no raw NUL, so the split never cuts a valid document).
 * With one, it is compared with itself. Each document is written to a
 * memfd and handed to the readers by its /proc/self/fd path, so the
 * fuzzed code is the code the commands run, file reading included.
 *
 * Per input:
 *   rf_load() on each document; its message or its skeleton is checked;
 *   every accessor over the connections and findings, rf_timeline() of
 *     every connection;
 *   render_html() into /dev/null;
 *   cmd_explain() (all flagged connections, coloured, then --connection of
 *     the last record) and cmd_diff() (text with --verbose, and --json), stdout going to
 *     /dev/null;
 *   dr_compare(BASE, NEW), and dr_compare(X, X) for each loadable X.
 * `explain --connection` is only asked about an id the report has a record
 * of: for any other id it opens the capture the report names (pcaptl.h),
 * which a fuzzer must not steer to arbitrary files.
 *
 * Invariants: a message is one non-empty line naming the file, with no
 * control byte (rf_load() writes the parser's quote of the input \xHH); a loaded
 * root has the skeleton rf_load() promises; a timeline's packets are
 * NUL-terminated and its cut index inside it; a report compared with
 * itself has no change and no regression, and any comparison's counters
 * agree with its items.
 *
 * stdout is sent to /dev/null once at start-up (libFuzzer writes to
 * stderr). The commands are run only on inputs they accept (cmd_explain
 * when every timeline decodes, cmd_diff when dr_compare() pairs the two),
 * since they print why not on stderr, which the fuzzer needs for its own
 * report; the library calls cover the refusals.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "reports/cli.h"
#include "reports/diffrep.h"
#include "reports/render.h"
#include "reports/reportfile.h"

#define ERR_LEN 512

/* Abort with the broken invariant named, so a crash report says which. */
#define check(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
		        __LINE__, #cond); \
		abort(); \
	} \
} while (0)

static int mfd[2] = { -1, -1 };
static char mpath[2][64];
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (int i = 0; i < 2; i++) {
		mfd[i] = memfd_create(i ? "new.json" : "base.json", 0);
		check(mfd[i] >= 0);
		snprintf(mpath[i], sizeof mpath[i], "/proc/self/fd/%d", mfd[i]);
	}
	devnull = fopen("/dev/null", "w");
	check(devnull != NULL);
	check(freopen("/dev/null", "w", stdout) != NULL);
	return 0;
}

static void put_file(int i, const uint8_t *p, size_t n)
{
	check(ftruncate(mfd[i], 0) == 0);
	check(pwrite(mfd[i], p, n, 0) == (ssize_t)n);
}

/* The skeleton rf_load() promises (reportfile.h). */
static void check_root(const json_t *r)
{
	const json_t *v;
	size_t i;

	check(json_is_object(r));
	check(json_integer_value(json_object_get(r, "report_version")) == 1);
	check(json_is_string(json_object_get(r, "command")));
	check(json_is_array(rf_arr(r, "findings")));
	check(json_is_array(rf_arr(r, "connections")));
	json_array_foreach(rf_arr(r, "findings"), i, v)
		check(rf_str(v, "type") != NULL);
	json_array_foreach(rf_arr(r, "connections"), i, v)
		check(json_is_integer(json_object_get(v, "id")));
}

static void check_message(const char *err, const char *path)
{
	check(memchr(err, '\0', ERR_LEN) != NULL);
	check(err[0] != '\0');
	check(strncmp(err, path, strlen(path)) == 0);
	/* one line, and nothing that drives a terminal (C0, DEL) */
	for (const char *p = err; *p; p++)
		check((unsigned char)*p >= 0x20 && *p != 0x7f);
}

/* Walk what explain and render walk, through the accessors. Returns false
 * when a timeline does not decode (explain then says so on stderr). */
static bool walk(const json_t *root)
{
	bool ok = true;
	const json_t *c, *f;
	char err[ERR_LEN];
	size_t i, k;

	(void)rf_is_lab(root);
	(void)rf_sum_members(rf_obj(rf_obj(root, "summary"), "by_kind"));
	json_array_foreach(rf_arr(root, "connections"), i, c) {
		long long id = rf_int(c, "id", -1);
		struct rf_timeline tl;

		check(rf_conn(root, id) != NULL);
		f = rf_finding_for(root, id);
		memset(&tl, 0, sizeof tl);
		if (rf_timeline(c, &tl, err, sizeof err) < 0) {
			check(err[0] != '\0');
			check(tl.pkts == NULL && tl.n == 0);
			ok = false;
			continue;
		}
		check(tl.n == 0 || tl.pkts != NULL);
		check(tl.omitted_after == -1 || (tl.omitted_after >= 0 &&
		      (size_t)tl.omitted_after < tl.n));
		for (k = 0; k < tl.n; k++) {
			check(memchr(tl.pkts[k].flags, '\0', sizeof tl.pkts[k].flags) != NULL);
			check(tl.pkts[k].dir == RF_C2S || tl.pkts[k].dir == RF_S2C);
			if (f)
				(void)rf_at_risk(f, tl.pkts[k].i);
		}
		rf_timeline_free(&tl);
	}
	return ok;
}

static void check_result(const struct dr_result *r, bool self)
{
	size_t i, better = 0, worse = 0, regr = 0, noise = 0;

	check(r->n <= r->cap);
	for (i = 0; i < r->n; i++) {
		const struct dr_item *it = &r->items[i];
		check(memchr(it->scope, '\0', sizeof it->scope) != NULL);
		check(memchr(it->metric, '\0', sizeof it->metric) != NULL);
		check(memchr(it->text, '\0', sizeof it->text) != NULL);
		check(it->unit != NULL);
		better += !it->noise && it->change == DR_BETTER;
		worse += !it->noise && it->change == DR_WORSE;
		regr += it->regression;
		noise += it->noise;
		/* noise: a timing figure's difference, never a regression */
		check(!it->noise || (!it->regression && it->change != DR_SAME && !strcmp(it->unit, "s")));
		check(!it->regression || it->change == DR_WORSE || it->change == DR_CHANGED);
		if (self) {
			check(it->change == DR_SAME);
			check(!it->regression);
		}
	}
	check(regr == r->regressions);
	check(better == r->better);
	check(worse == r->worse);
	check(noise == r->noise);
}

/* Returns true when the two are comparable. */
static bool compare(const json_t *a, const json_t *b, bool self)
{
	bool ok;
	struct dr_result res;
	char err[ERR_LEN];

	memset(&res, 0, sizeof res);
	ok = dr_compare(a, b, "base.json", "new.json", NULL, 0, &res, err, sizeof err) == 0;
	if (ok)
		check_result(&res, self);
	else
		check(err[0] != '\0');
	dr_free(&res);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	json_t *root[2] = { NULL, NULL };
	char err[ERR_LEN];
	int n = nul ? 2 : 1, i;
	bool good;

	put_file(0, data, nul ? (size_t)(nul - data) : size);
	if (nul)
		put_file(1, nul + 1, size - (size_t)(nul - data) - 1);

	for (i = 0; i < n; i++) {
		memset(err, 0, sizeof err);
		root[i] = rf_load(mpath[i], err, sizeof err);
		if (!root[i]) {
			check_message(err, mpath[i]);
			continue;
		}
		check_root(root[i]);
		good = walk(root[i]);
		if (render_html(devnull, root[i], mpath[i], err, sizeof err) < 0)
			check_message(err, mpath[i]);
		if (compare(root[i], root[i], true) && n == 1) {
			char *argv[] = { "diff", "--color=always", mpath[i], mpath[i], NULL };
			(void)cmd_diff(4, argv);
		}
		if (!good) {
			/* explain stops at the broken timeline with a line on
			 * stderr; render_html() above took the same path */
		} else {
			char *argv[] = { "explain", "--color=always", mpath[i], NULL };
			(void)cmd_explain(3, argv);
		}
		{
			json_t *conns = rf_arr(root[i], "connections");
			size_t nc = json_array_size(conns);
			if (good && nc) {
				char id[32];
				snprintf(id, sizeof id, "%lld",
				         rf_int(json_array_get(conns, nc - 1), "id", 1));
				if (rf_conn(root[i], strtoll(id, NULL, 10)) &&
				    strtoll(id, NULL, 10) >= 1) {
					char *argv[] = { "explain", "--color=never", "--connection", id,
					                 mpath[i], NULL };
					(void)cmd_explain(5, argv);
				}
			}
		}
	}
	/* cmd_diff only where dr_compare() agrees they compare: it says why
	 * not on stderr otherwise, for nearly every input */
	if (root[0] && root[1] && compare(root[0], root[1], false)) {
		char *argv1[] = { "diff", "--color=always", "--verbose", mpath[0], mpath[1], NULL };
		char *argv2[] = { "diff", "--json", "-t", "fin_wait_2_peak=10%", mpath[0],
		                  mpath[1], NULL };
		(void)cmd_diff(5, argv1);
		(void)cmd_diff(6, argv2);
	}
	json_decref(root[0]);
	json_decref(root[1]);
	return 0;
}
