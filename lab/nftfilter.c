/*
 * nftfilter.c - the run's own nftables table (see nftfilter.h), through
 * libnftables.
 */
#include "lab/nftfilter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <nftables/libnftables.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/errmsg.h"
#include "lab/netns.h"
#include "lab/target.h"

#define COMMENT_FMT "lingerlab run %ld: reserved ports %u-%u"

void nftfilter_table_name(pid_t owner, char *buf, size_t buflen)
{
	snprintf(buf, buflen, "ll%ldrst", (long)(owner ? owner : getpid()));
}

/* The table's family and the rule's address keyword: ip or ip6. */
static const char *family(const struct nftfilter_spec *s) { return s->src.af == 6 ? "ip6" : "ip"; }

void nftfilter_rule(const struct nftfilter_spec *s, char *buf, size_t buflen)
{
	char src[LLADDR_STRLEN], dst[LLADDR_STRLEN];
	const char *f = family(s);

	lladdr_str(&s->src, src, sizeof src);
	lladdr_str(&s->dst, dst, sizeof dst);
	snprintf(buf, buflen,
	         "%s saddr %s %s daddr %s tcp sport %u-%u tcp dport %u "
	         "tcp flags & rst == rst meta mark != 0x%08x counter drop",
	         f, src, f, dst, s->sport_lo, s->sport_hi, s->dport, NFTFILTER_MARK);
}

void nftfilter_describe(const struct nftfilter_spec *s, char *buf, size_t buflen)
{
	char name[32], rule[256];

	nftfilter_table_name(s->owner, name, sizeof name);
	nftfilter_rule(s, rule, sizeof rule);
	snprintf(buf, buflen, "table %s %s, chain out (hook output, policy accept): %s", family(s), name, rule);
}

/*
 * Run cmd; on success *out (may be NULL) gets a copy of nft's output
 * (caller frees). The error text, cut to one line, goes to err.
 */
static int run_nft(const char *cmd, char **out, const char *what, char *err, size_t errlen)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	int rc = -1;

	if (out)
		*out = NULL;
	if (!ctx) {
		errmsg_set(err, errlen, "nftables: %s: cannot make a context", what);
		return -1;
	}
	if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
		errmsg_set(err, errlen, "nftables: %s: cannot buffer output", what);
		goto out;
	}
	if (nft_run_cmd_from_buffer(ctx, cmd) != 0) {
		const char *e = nft_ctx_get_error_buffer(ctx);
		char line[300];
		size_t n;

		snprintf(line, sizeof line, "%s", e && *e ? e : "failed");
		for (n = 0; line[n]; n++)
			if (line[n] == '\n') {
				line[n] = '\0';
				break;
			}
		errmsg_set(err, errlen, "nftables: %s: %s", what, line);
		goto out;
	}
	if (out) {
		const char *o = nft_ctx_get_output_buffer(ctx);
		*out = strdup(o ? o : "");
		if (!*out) {
			errmsg_set(err, errlen, "nftables: %s: out of memory", what);
			goto out;
		}
	}
	rc = 0;
out:
	nft_ctx_free(ctx);
	return rc;
}

int nftfilter_install(const struct nftfilter_spec *s, bool with_rule, char *err, size_t errlen)
{
	char name[32], rule[256], comment[96], cmd[1024];
	pid_t owner = s->owner ? s->owner : getpid();

	if (s->sport_lo == 0 || s->sport_hi < s->sport_lo || s->dport == 0 ||
	    s->src.af == 0 || s->src.af != s->dst.af) {
		errmsg_set(err, errlen, "nftables: incomplete filter (no address or port)");
		return -1;
	}
	nftfilter_table_name(owner, name, sizeof name);
	nftfilter_rule(s, rule, sizeof rule);
	snprintf(comment, sizeof comment, COMMENT_FMT, (long)owner, s->sport_lo, s->sport_hi);
	/* "add table" then "delete table" empties a table a dead run of our
	 * pid left behind; the whole buffer is one transaction. */
	const char *f = family(s);
	if (with_rule)
		snprintf(cmd, sizeof cmd,
		         "add table %s %s\n"
		         "delete table %s %s\n"
		         "table %s %s {\n"
		         "  comment \"%s\"\n"
		         "  chain out {\n"
		         "    type filter hook output priority filter; policy accept;\n"
		         "    %s\n"
		         "  }\n"
		         "}\n",
		         f, name, f, name, f, name, comment, rule);
	else    /* no chain, so no hook: a record of the ports, nothing more */
		snprintf(cmd, sizeof cmd,
		         "add table %s %s\n"
		         "delete table %s %s\n"
		         "table %s %s {\n"
		         "  comment \"%s\"\n"
		         "}\n",
		         f, name, f, name, f, name, comment);
	return run_nft(cmd, NULL, "install table", err, errlen);
}

static int table_family(const char *name, const char **fam, char *err, size_t errlen);

int nftfilter_dropped(pid_t owner, uint64_t *dropped, char *err, size_t errlen)
{
	char name[32], cmd[64];
	char *out = NULL;
	const char *p;

	const char *fam = "ip";
	nftfilter_table_name(owner, name, sizeof name);
	if (table_family(name, &fam, err, errlen) < 0)
		return -1;
	snprintf(cmd, sizeof cmd, "list table %s %s", fam, name);
	if (run_nft(cmd, &out, "read counter", err, errlen) < 0)
		return -1;
	p = strstr(out, "counter packets ");
	if (!p) {          /* a table without the rule dropped nothing */
		*dropped = 0;
		free(out);
		return 0;
	}
	if (sscanf(p, "counter packets %" SCNu64, dropped) != 1) {
		errmsg_set(err, errlen, "nftables: table %s %s has no counter", fam, name);
		free(out);
		return -1;
	}
	free(out);
	return 0;
}

/* Is the table there, and of which family (*fam: "ip" or "ip6")? 1 yes,
 * 0 no, -1 cannot tell. */
static int table_family(const char *name, const char **fam, char *err, size_t errlen)
{
	static const char *const fams[] = { "ip", "ip6" };
	char *out = NULL;
	char want[48];
	int r = 0;

	if (run_nft("list tables", &out, "list tables", err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < 2 && !r; i++) {
		snprintf(want, sizeof want, "table %s %s\n", fams[i], name);
		r = strstr(out, want) != NULL;
		if (r && fam)
			*fam = fams[i];
	}
	free(out);
	return r;
}

int nftfilter_remove(pid_t owner, char *err, size_t errlen)
{
	char name[32], cmd[64];
	int r;

	const char *fam = "ip";
	nftfilter_table_name(owner, name, sizeof name);
	r = table_family(name, &fam, err, errlen);
	if (r <= 0)
		return r;
	snprintf(cmd, sizeof cmd, "delete table %s %s", fam, name);
	return run_nft(cmd, NULL, "remove table", err, errlen);
}

int nftfilter_clean_stale(char *report, size_t reportlen, int *removed,
                          char *err, size_t errlen)
{
	char *tables = NULL, *line, *save = NULL;
	size_t rlen = report && reportlen ? strlen(report) : 0;
	int rc = 0, n = 0;
	bool first_err = true;

	if (removed)
		*removed = 0;
	/* No nftables here (no nf_tables in the kernel, no permission): then
	 * no run of ours can have left a table either. */
	if (run_nft("list tables", &tables, "list tables", NULL, 0) < 0)
		return 0;
	for (line = strtok_r(tables, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[64], fam[8], cmd[128], msg[256], ports[64] = "";
		char *body = NULL;
		const char *c;
		pid_t pid;
		long cpid;
		unsigned lo, hi;

		if (sscanf(line, "table %7s %63s", fam, name) != 2 || (strcmp(fam, "ip") && strcmp(fam, "ip6")))
			continue;
		pid = labnet_name_pid(name);
		if (pid <= 0 || strcmp(name + strlen(name) - 3, "rst") != 0)
			continue;
		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue;   /* alive (or not ours to judge) */
		snprintf(cmd, sizeof cmd, "list table %s %s", fam, name);
		if (run_nft(cmd, &body, "read table", msg, sizeof msg) == 0 &&
		    (c = strstr(body, "comment \"lingerlab run ")) != NULL &&
		    sscanf(c, "comment \"" COMMENT_FMT, &cpid, &lo, &hi) == 3 && cpid == (long)pid &&
		    lo > 0 && lo <= hi && hi <= 65535) {
			if (target_ports_release((uint16_t)lo, (uint16_t)hi, NULL, 0, msg, sizeof msg) == 0) {
				snprintf(ports, sizeof ports, "; ports %u-%u no longer reserved", lo, hi);
			} else {
				if (first_err)
					errmsg_set(err, errlen, "%s", msg);
				first_err = false;
				rc = -1;
			}
		}
		free(body);
		snprintf(cmd, sizeof cmd, "delete table %s %s", fam, name);
		if (run_nft(cmd, NULL, "remove table", msg, sizeof msg) < 0) {
			if (first_err)
				errmsg_set(err, errlen, "%s", msg);
			first_err = false;
			rc = -1;
			continue;
		}
		n++;
		if (report && rlen < reportlen) {
			int w = snprintf(report + rlen, reportlen - rlen,
			                 "removed nftables table %s %s%s\n", fam, name, ports);
			if (w > 0)
				rlen += (size_t)w < reportlen - rlen ? (size_t)w : reportlen - rlen - 1;
		}
	}
	free(tables);
	if (removed)
		*removed = n;
	return rc;
}
