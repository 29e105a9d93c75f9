/*
 * cmd_analyze.c - `lingerlab analyze`: read a capture file or a live
 * interface, follow every TCP teardown, write the JSON report.
 *
 * tcpdump's habits: -r FILE (pcap or pcapng, "-" for standard input) or
 * -i IFACE, -c COUNT, and the words after the options are a BPF filter.
 * -r may be repeated or given a quoted pattern: the files are merged by
 * timestamp (analyzer/merge.h), compressed ones decompressed as read
 * (analyzer/zread.h); input.files says what each file was.
 * The report goes to stdout unless -o names a file; --connections streams
 * one JSON line per connection as the analyzer finishes it, so nothing
 * about finished connections stays in memory. A live capture's buffer is
 * set with -B as tcpdump's; the kernel's drop counters go into the report
 * (input.kernel_dropped, input.interface_dropped) and, when not zero, into
 * the verdict and a line on stderr.
 *
 * A live capture gives up root once the capture handle, the filter and the
 * output files are open (-Z USER, default nobody; reports/privdrop.h):
 * what decodes packets from the wire runs with no capability at all.
 */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/analyzer.h"
#include "analyzer/capture.h"
#include "analyzer/merge.h"
#include "analyzer/pngmeta.h"
#include "analyzer/tlskeys.h"
#include "reports/cli.h"
#include "reports/privdrop.h"
#include "reports/safetext.h"
#include "reports/textout.h"
#include "reports/connwriter.h"
#include "reports/report.h"

#define PROG "lingerlab analyze"
#define MAX_SERVER_PORTS 64
/* progress is worth showing only when reading takes a moment */
#define PROGRESS_MIN_FILE (4u << 20)

/* Set by SIGINT/SIGTERM during a live capture; cap_run polls it. The
 * handler does nothing else. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct analyze_opts {
	const char *iface, *out, *conns_path;
	char **rfiles;             /* -r, globs expanded; each freed */
	size_t n_rfiles;
	char *source;              /* the -r words as given, joined; freed */
	const char *user;          /* -Z: NULL for the default (nobody) */
	uint16_t ports[MAX_SERVER_PORTS];
	size_t n_ports;
	uint64_t count;
	double duration;
	size_t max_memory;         /* 0: the analyzer's default */
	bool fail_on_hazard;       /* exit 1 when there is a rst_before_ack */
	uint64_t buffer_bytes;     /* -B, 0: CAP_BUFFER_DEFAULT */
	char *filter;              /* trailing words joined, or NULL; freed */
	const char *tls_keylog;    /* --tls-keylog: an NSS key log, or NULL */
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: lingerlab analyze (-r FILE | -i IFACE) [-o REPORT.json] [--server-port N]...\n"
	        "                         [--connections FILE.jsonl] [-c COUNT] [--duration SECONDS]\n"
	        "                         [--max-memory SIZE] [-Z USER] [-B SIZE] [--fail-on-hazard]\n"
	        "                         [--tls-keylog FILE] [BPF FILTER...]\n"
	        "\n"
	        "Follow every TCP connection in a capture and report how each one ended:\n"
	        "rst_before_ack (a RST while the sender's data was still unacknowledged)\n"
	        "and fin_wait_2 (server sockets left waiting for the client's FIN).\n"
	        "\n"
	        "  -r FILE              read a pcap or pcapng file, also gzip, zstd or xz\n"
	        "                       compressed; \"-\" reads standard input. Repeat -r, or\n"
	        "                       quote a pattern (-r 'ring.pcap*'), to read several\n"
	        "                       files merged by timestamp (a tcpdump -C/-G set)\n"
	        "  -i IFACE             capture live on IFACE until -c, --duration or Ctrl-C\n"
	        "  -o REPORT.json       write the JSON report there (default: standard output)\n"
	        "  --server-port N      N names the server when no handshake shows who is who\n"
	        "                       (repeatable; default: the well-known or lower port)\n"
	        "  --connections FILE   every connection as one JSON line (JSON Lines)\n"
	        "  -c COUNT             stop after COUNT frames\n"
	        "  --duration SECONDS   live: stop after SECONDS\n"
	        "  --max-memory SIZE    bound the connection store (default 256MiB; units\n"
	        "                       KiB, MiB, GiB; \"none\": no bound). Past it the oldest\n"
	        "                       connections are ended early and the report says so\n"
	        "  -Z USER              live, started as root: once the capture and the output\n"
	        "                       files are open, run as USER with no capability\n"
	        "                       (default nobody; \"root\" keeps root)\n"
	        "  -B SIZE              live: the kernel's capture buffer, in KiB as tcpdump's -B\n"
	        "                       or with a unit (KiB, MiB, GiB); default 32MiB\n"
	        "  --fail-on-hazard     exit 1 when there is a rst_before_ack (CI on captures)\n"
	        "  --tls-keylog FILE    decrypt TLS with the secrets of an NSS key log\n"
	        "                       (SSLKEYLOGFILE): findings then name the HTTP response\n"
	        "                       at risk and a TLS 1.3 close_notify\n"
	        "  BPF FILTER           tcpdump filter expression, e.g. tcp port 80; options may\n"
	        "                       stand before or after it, as with tcpdump\n"
	        "  -h, --help           this text\n"
	        "\n"
	        "exit codes: 0 report written, 1 a rst_before_ack with --fail-on-hazard, 2 bad\n"
	        "usage or unreadable input, 3 environment problem (no permission to capture,\n"
	        "an output that cannot be written: full disk, I/O error), 4 a live capture\n"
	        "whose kernel dropped packets (the analysis is incomplete).\n");
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	tout_vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return LL_EXIT_USAGE;
}

static int parse_port(const char *s, uint16_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < 1 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int parse_count(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v == 0)
		return -1;
	*out = v;
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0)
		return -1;
	*out = v;
	return 0;
}

/* -B SIZE: a number of KiB (tcpdump's -B), or a number with a unit KiB,
 * MiB or GiB; > 0 and at most CAP_BUFFER_MAX bytes. Returns 0, or -1 with
 * the exact complaint in msg. */
static int parse_buffer_size(const char *s, uint64_t *out, char *msg, size_t msglen)
{
	static const struct { const char *unit; uint64_t mul; } units[] = {
		{ "", 1024 }, { "KiB", 1024 }, { "MiB", 1024 * 1024 },
		{ "GiB", 1024ull * 1024 * 1024 },
	};
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno == ERANGE || end == s || s[0] < '0' || s[0] > '9' || v == 0)
		goto bad;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (v > CAP_BUFFER_MAX / units[i].mul) {
			snprintf(msg, msglen, "-B: at most %llu bytes (libpcap's limit), found '%s'",
			         (unsigned long long)CAP_BUFFER_MAX, s);
			return -1;
		}
		*out = v * units[i].mul;
		return 0;
	}
bad:
	snprintf(msg, msglen, "-B: expected a buffer size > 0 in KiB or with a unit "
	         "(e.g. 65536, 64MiB), found '%s'", s);
	return -1;
}

/* Join argv[from..argc) with single spaces, as tcpdump does. */
static char *join_words(int argc, char **argv, int from)
{
	size_t len = 0;
	for (int i = from; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if (len == 0)
		return NULL;
	char *s = malloc(len);
	if (!s)
		return NULL;
	size_t at = 0;
	for (int i = from; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (at)
			s[at++] = ' ';
		memcpy(s + at, argv[i], n);
		at += n;
	}
	s[at] = '\0';
	return s;
}

/* A size: digits with an optional KiB, MiB or GiB (or "none": no bound),
 * at least 1 MiB, so that a few connections always fit. */
static int parse_memory(const char *s, size_t *out)
{
	static const struct { const char *unit; unsigned shift; } units[] = {
		{ "", 0 }, { "KiB", 10 }, { "MiB", 20 }, { "GiB", 30 },
	};
	char *end;
	unsigned long long v;

	if (strcmp(s, "none") == 0) {
		*out = SIZE_MAX;
		return 0;
	}
	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (v > (SIZE_MAX >> units[i].shift))
			return -1;
		v <<= units[i].shift;
		if (v < (1u << 20))
			return -1;
		*out = (size_t)v;
		return 0;
	}
	return -1;
}

/* -r PATH: a file (or "-"), or, when no file has that name and it holds
 * a wildcard, the files the pattern matches (glob(3), sorted): a quoted
 * pattern reads a rotating tcpdump -C/-G set in one go. The order does
 * not matter: the files are merged by timestamp (analyzer/merge.h). */
static int add_rfile(struct analyze_opts *o, const char *arg, char *msg, size_t msglen)
{
	struct stat sb;
	glob_t g;
	char **nr;
	size_t n = 1;
	bool pattern = strpbrk(arg, "*?[") && strcmp(arg, "-") != 0 && stat(arg, &sb) != 0;

	memset(&g, 0, sizeof g);
	if (pattern) {
		int rc = glob(arg, 0, NULL, &g);
		if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
			snprintf(msg, msglen, "-r: no file matches '%s'", arg);
			globfree(&g);
			return -1;
		}
		if (rc != 0) {
			snprintf(msg, msglen, "-r: cannot expand '%s'", arg);
			globfree(&g);
			return -1;
		}
		n = g.gl_pathc;
	}
	if (o->n_rfiles + n > MS_MAX_FILES) {
		snprintf(msg, msglen, "-r: at most %d files", MS_MAX_FILES);
		globfree(&g);
		return -1;
	}
	nr = realloc(o->rfiles, (o->n_rfiles + n) * sizeof(*nr));
	if (!nr) {
		snprintf(msg, msglen, "-r: out of memory");
		globfree(&g);
		return -1;
	}
	o->rfiles = nr;
	for (size_t i = 0; i < n; i++) {
		char *p = strdup(pattern ? g.gl_pathv[i] : arg);
		if (!p) {
			snprintf(msg, msglen, "-r: out of memory");
			globfree(&g);
			return -1;
		}
		o->rfiles[o->n_rfiles++] = p;
	}
	globfree(&g);
	/* the words as given, for input.source */
	size_t old = o->source ? strlen(o->source) : 0, cap = old + strlen(arg) + 2;
	char *src = realloc(o->source, cap);
	if (!src) {
		snprintf(msg, msglen, "-r: out of memory");
		return -1;
	}
	if (old)
		src[old++] = ' ';
	snprintf(src + old, cap - old, "%s", arg);
	o->source = src;
	return 0;
}

enum { OPT_SERVER_PORT = 256, OPT_CONNECTIONS, OPT_DURATION, OPT_MAX_MEMORY,
       OPT_FAIL_ON_HAZARD, OPT_TLS_KEYLOG };

/* Returns -1 to go on, else the exit code (help or a usage error). */
static int parse_args(int argc, char **argv, struct analyze_opts *o)
{
	static const struct option longopts[] = {
		{ "server-port", required_argument, NULL, OPT_SERVER_PORT },
		{ "connections", required_argument, NULL, OPT_CONNECTIONS },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "max-memory", required_argument, NULL, OPT_MAX_MEMORY },
		{ "fail-on-hazard", no_argument, NULL, OPT_FAIL_ON_HAZARD },
		{ "tls-keylog", required_argument, NULL, OPT_TLS_KEYLOG },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	opterr = 0;
	optind = 1;
	/* "+": options end at the first filter word, like tcpdump's own use */
	char msg[256];
	/* no leading '+': getopt permutes, so options may follow the filter
	 * words as tcpdump on Linux takes them (`-r f.pcap tcp port 443 -o
	 * r.json`); "--" ends the options for a filter word that starts with
	 * '-' */
	while ((c = getopt_long(argc, argv, ":r:i:o:c:Z:B:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (add_rfile(o, optarg, msg, sizeof msg) != 0)
				return fail("%s", msg);
			break;
		case 'i': o->iface = optarg; break;
		case 'o': o->out = optarg; break;
		case 'Z': o->user = optarg; break;
		case 'c':
			if (parse_count(optarg, &o->count))
				return fail("-c: expected a packet count > 0, found '%s'", optarg);
			break;
		case OPT_DURATION:
			if (parse_seconds(optarg, &o->duration))
				return fail("--duration: expected seconds > 0, found '%s'", optarg);
			break;
		case 'B':
			if (parse_buffer_size(optarg, &o->buffer_bytes, msg, sizeof msg))
				return fail("%s", msg);
			break;
		case OPT_CONNECTIONS: o->conns_path = optarg; break;
		case OPT_FAIL_ON_HAZARD: o->fail_on_hazard = true; break;
		case OPT_TLS_KEYLOG: o->tls_keylog = optarg; break;
		case OPT_MAX_MEMORY:
			if (parse_memory(optarg, &o->max_memory))
				return fail("--max-memory: expected a size of at least 1MiB "
				            "(e.g. 64MiB, 2GiB) or none, found '%s'", optarg);
			break;
		case OPT_SERVER_PORT: {
			uint16_t p;
			if (parse_port(optarg, &p))
				return fail("--server-port: expected a port number 1-65535, found '%s'", optarg);
			bool dup = false;
			for (size_t i = 0; i < o->n_ports; i++)
				dup |= o->ports[i] == p;
			if (dup)
				break;
			if (o->n_ports == MAX_SERVER_PORTS)
				return fail("--server-port: at most %d ports", MAX_SERVER_PORTS);
			o->ports[o->n_ports++] = p;
			break;
		}
		case 'h':
			usage(stdout);
			return LL_EXIT_OK;
		case ':':
			if (optopt && optopt < 256)
				return fail("-%c: option needs an argument", optopt);
			return fail("%s: option needs an argument", argv[optind - 1]);
		default:
			if (optopt && optopt < 256)
				return fail("unknown option: -%c (try " PROG " --help)", optopt);
			return fail("unknown option: %s (try " PROG " --help)", argv[optind - 1]);
		}
	}
	if (o->n_rfiles && o->iface)
		return fail("input: give -r FILE or -i IFACE, not both");
	if (!o->n_rfiles && !o->iface)
		return fail("input: give -r FILE or -i IFACE (try " PROG " --help)");
	if (o->duration > 0 && !o->iface)
		return fail("--duration: only with -i (a live capture)");
	if (o->user && !o->iface)
		return fail("-Z: only with -i (a live capture)");
	if (o->buffer_bytes && !o->iface)
		return fail("-B: only with -i (a live capture)");
	const char *out = o->out ? o->out : "-";
	if (o->conns_path && !strcmp(o->conns_path, "-") && !strcmp(out, "-"))
		return fail("--connections: standard output already carries the report; give -o FILE");
	if (optind < argc && !(o->filter = join_words(argc, argv, optind)))
		return fail("filter: out of memory");
	return -1;
}

/*
 * Refuse an unwritable report path before reading anything: a long capture
 * analyzed for nothing is worse than an early error. Same message as the
 * writer's. Standard output and existing non-regular files (/dev/null) are
 * written in place and need no check here.
 */
static int check_out_path(const char *out)
{
	struct stat sb;
	char dir[4096];
	if (!strcmp(out, "-") || (stat(out, &sb) == 0 && !S_ISREG(sb.st_mode)))
		return 0;
	const char *slash = strrchr(out, '/');
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == out)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - out), out);
	if (access(dir, W_OK | X_OK) != 0) {
		fail("write report: %s: %s", out, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- progress on a terminal ------------------------------------------- */

struct progress {
	struct timespec start, last;
	bool shown;
};

static double since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void on_progress(uint64_t packets, uint64_t bytes_read, uint64_t file_size, void *arg)
{
	struct progress *p = arg;
	struct timespec now;
	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0 || since(&p->last, &now) < 0.25)
		return;
	p->last = now;
	double secs = since(&p->start, &now);
	double pct = file_size ? 100.0 * (double)bytes_read / (double)file_size : 0;
	fprintf(stderr, "\r" PROG ": %5.1f%% read, %llu packets, %.0f packets/s\033[K",
	        pct > 100 ? 100 : pct, (unsigned long long)packets,
	        secs > 0 ? (double)packets / secs : 0);
	p->shown = true;
}

/* Live, on a terminal: once a second, what came in and what the kernel
 * dropped so far (the reader thread reads its counters once a second). */
struct live_progress {
	struct progress p;
	struct cap *cap;
};

static void on_live_progress(uint64_t packets, uint64_t bytes, uint64_t file_size, void *arg)
{
	struct live_progress *lp = arg;
	struct cap_kstats ks;
	struct timespec now;
	(void)bytes;
	(void)file_size;
	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0 || since(&lp->p.last, &now) < 1.0)
		return;
	lp->p.last = now;
	double secs = since(&lp->p.start, &now);
	fprintf(stderr, "\r" PROG ": %" PRIu64 " packets, %.0f packets/s", packets,
	        secs > 0 ? (double)packets / secs : 0);
	if (cap_kernel_stats(lp->cap, &ks) == 0)
		fprintf(stderr, ", kernel dropped %" PRIu64, ks.kernel_dropped);
	fputs("\033[K", stderr);
	lp->p.shown = true;
}

/* ---- streaming connections -------------------------------------------- */

struct conn_sink {
	FILE *f;
	struct connwriter *cw;     /* writes the records (connwriter.c) */
	const struct az *az;       /* for input.start_time */
	int err;                   /* first errno of a failed write */
	struct az_conn spare;      /* a record's room once the writer is gone */
};

/* Each record is built in the writer's queue slot (conn_slot) and queued
 * as it is (on_conn): no copy. */
static struct az_conn *conn_slot(void *arg)
{
	struct conn_sink *s = arg;
	return s->cw ? connwriter_slot(s->cw) : &s->spare;
}

static void on_conn(const struct az_conn *c, void *arg)
{
	struct conn_sink *s = arg;
	(void)c; /* the slot conn_slot gave */
	if (s->cw)
		connwriter_commit(s->cw, az_stats(s->az)->first_time);
}

/* ---- what the reader knows beyond the analyzer ------------------------- */

/* The link type the report names: the files' own when they agree, else
 * "mixed" (input.files[] names each). */
static const char *ms_link_type(const struct ms *ms)
{
	const char *first = cap_datalink_name(ms_cap(ms, 0));
	for (size_t i = 1; i < ms_count(ms); i++)
		if (strcmp(cap_datalink_name(ms_cap(ms, i)), first) != 0)
			return "mixed";
	return first;
}

static int set_new(json_t *o, const char *k, json_t *v)
{
	return v ? json_object_set_new(o, k, v) : -1;
}

/* input.unsupported_kinds: what the unsupported frames carried (summed
 * over the files), so that a link type or an encapsulation not decoded is
 * never silent. */
static json_t *unsupported_kinds(const struct cap *cap, const struct ms *ms)
{
	json_t *kinds = json_array();
	size_t nf = ms ? ms_count(ms) : 1;
	char text[96];
	uint64_t n;

	if (!kinds)
		return NULL;
	for (size_t f = 0; f < nf; f++) {
		const struct cap *c = ms ? ms_cap(ms, f) : cap;
		size_t total = cap_unsupported(c, 0, text, sizeof text, &n);
		for (size_t i = 0; i < total; i++) {
			cap_unsupported(c, i, text, sizeof text, &n);
			/* the same kind from another file adds to its entry */
			size_t k;
			json_t *e = NULL;
			json_array_foreach(kinds, k, e) {
				if (!strcmp(json_string_value(json_object_get(e, "what")), text))
					break;
				e = NULL;
			}
			if (e) {
				json_int_t was = json_integer_value(json_object_get(e, "packets"));
				if (json_object_set_new(e, "packets", json_integer(was + (json_int_t)n)))
					goto err;
				continue;
			}
			e = json_object();
			if (!e || json_array_append_new(kinds, e) ||
			    set_new(e, "what", json_string(text)) ||
			    set_new(e, "packets", json_integer((json_int_t)n)))
				goto err;
		}
	}
	return kinds;
err:
	json_decref(kinds);
	return NULL;
}

/* A string from a capture file or the command line, as JSON: by the
 * report's rule for strings from outside (reports/safetext.h: invalid
 * bytes as their Latin-1 characters, as input.source). */
static json_t *jfile_str(const char *s)
{
	return safe_jstring(s);
}

static json_t *jpng(const struct png_str *s)
{
	return s->present ? jfile_str(s->s) : json_null();
}

static json_t *jcomments(const struct png_str *list, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, jfile_str(list[i].s))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* A pcapng file's section and interfaces, into its input.files entry. */
static int add_pcapng(json_t *f, const struct png_meta *m)
{
	json_t *ifs = json_array();
	if (!ifs || set_new(f, "comments", jcomments(m->comments, m->n_comments)) ||
	    set_new(f, "hardware", jpng(&m->hardware)) || set_new(f, "os", jpng(&m->os)) ||
	    set_new(f, "application", jpng(&m->application))) {
		json_decref(ifs);
		return -1;
	}
	if (set_new(f, "interfaces", ifs))
		return -1;
	for (size_t i = 0; i < m->n_ifs; i++) {
		const struct png_if *ifc = &m->ifs[i];
		const char *lt = pcap_datalink_val_to_name(ifc->link_type);
		char ltbuf[16];
		json_t *o = json_object();
		snprintf(ltbuf, sizeof ltbuf, "DLT_%u", ifc->link_type);
		if (!o || json_array_append_new(ifs, o) ||
		    set_new(o, "name", jpng(&ifc->name)) ||
		    set_new(o, "description", jpng(&ifc->description)) ||
		    set_new(o, "link_type", json_string(lt ? lt : ltbuf)) ||
		    set_new(o, "os", jpng(&ifc->os)) ||
		    set_new(o, "hardware", jpng(&ifc->hardware)) ||
		    set_new(o, "comments", jcomments(ifc->comments, ifc->n_comments)))
			return -1;
	}
	return 0;
}

/* input.files: each -r file, its format and compression, how many of its
 * records were read, and where they sit in the merged packet numbering. */
static json_t *files_json(const struct ms *ms)
{
	json_t *files = json_array();
	if (!files)
		return NULL;
	for (size_t i = 0; i < ms_count(ms); i++) {
		const struct cap *c = ms_cap(ms, i);
		const struct ms_run *runs;
		bool cut;
		size_t nr = ms_runs(ms, i, &runs, &cut);
		json_t *f = json_object(), *jr = NULL;
		/* each value goes into its parent as it is made, so an error
		 * leaves nothing behind but files itself */
		if (!f || json_array_append_new(files, f))
			goto err;
		if (set_new(f, "path", jfile_str(ms_path(ms, i))) ||
		    set_new(f, "format", json_string(cap_format(c))) ||
		    set_new(f, "compression", json_string(cap_compression(c))) ||
		    set_new(f, "link_type", json_string(cap_datalink_name(c))) ||
		    set_new(f, "packets", json_integer((json_int_t)ms_records(ms, i))) ||
		    set_new(f, "runs", (jr = json_array())) ||
		    set_new(f, "runs_truncated", json_boolean(cut)))
			goto err;
		for (size_t k = 0; k < nr; k++)
			if (json_array_append_new(jr, json_pack("[III]",
			                          (json_int_t)runs[k].first_packet,
			                          (json_int_t)runs[k].first_record,
			                          (json_int_t)runs[k].count)))
				goto err;
		if (cap_pcapng_meta(c) && add_pcapng(f, cap_pcapng_meta(c)))
			goto err;
	}
	return files;
err:
	json_decref(files);
	return NULL;
}

/* What the reader knows beyond the analyzer, added to "input". NULL when
 * memory runs out (the report then goes without it). */
static json_t *input_extra(const struct cap *cap, const struct ms *ms)
{
	json_t *o = json_object();
	if (!o || set_new(o, "unsupported_kinds", unsupported_kinds(cap, ms)) ||
	    (ms && set_new(o, "files", files_json(ms)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- the command ------------------------------------------------------ */

int cmd_analyze(int argc, char **argv)
{
	struct analyze_opts o = { 0 };
	struct cap *cap = NULL;
	struct ms *ms = NULL;      /* -r: the files, merged; owns cap */
	struct az *az = NULL;
	struct conn_sink sink = { 0 };
	struct live_progress prog = { 0 };
	struct cap_kstats ks = { 0 };
	bool have_ks = false;
	char err[512] = "", read_err[512] = "";
	struct privdrop pd = { 0 };
	struct tlskeys *keys = NULL;
	FILE *early = NULL;        /* the report, opened before root goes */
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		goto out;
	rc = LL_EXIT_USAGE;

	if (check_out_path(o.out ? o.out : "-") != 0)
		goto out;
	if (o.tls_keylog && !(keys = tlskeys_load(o.tls_keylog, err, sizeof err))) {
		fail("--tls-keylog: %s", err);
		goto out;
	}
	if (o.iface && privdrop_init(&pd, o.user, err, sizeof err) != 0) {
		fail("%s", err);
		goto out;
	}
	if (o.n_rfiles) {
		ms = ms_open((const char *const *)o.rfiles, o.n_rfiles, err, sizeof err);
		cap = ms ? ms_cap(ms, 0) : NULL;
	} else {
		cap = cap_open_live_buffer(o.iface, o.buffer_bytes, err, sizeof err);
	}
	if (!cap) {
		if (o.iface && errno == EPERM) {
			fail("%s (capturing needs root or CAP_NET_RAW)", err);
			rc = LL_EXIT_ENV;
		} else {
			fail("%s", err);
		}
		goto out;
	}
	if (o.filter && (ms ? ms_set_filter(ms, o.filter, err, sizeof err)
	                    : cap_set_filter(cap, o.filter, err, sizeof err)) != 0) {
		fail("%s", err);
		goto out;
	}
	if (o.conns_path) {
		sink.f = strcmp(o.conns_path, "-") ? fopen(o.conns_path, "w") : stdout;
		if (!sink.f) {
			fail("--connections: %s: %s", o.conns_path, strerror(errno));
			goto out;
		}
		/* one line per connection: a larger buffer means fewer writes */
		if (sink.f != stdout)
			setvbuf(sink.f, NULL, _IOFBF, 1 << 16);
		if (!(sink.cw = connwriter_start(sink.f))) {
			fail("--connections: out of memory");
			goto out;
		}
	}
	if (o.iface) {
		/* everything that needs root is open: the report too, when the
		 * user changes (it could not be created in a root-owned
		 * directory afterwards) */
		if (privdrop_changes_user(&pd) &&
		    !(early = report_open_early(o.out ? o.out : "-", err, sizeof err))) {
			fail("%s", err);
			goto out;
		}
		if (privdrop_apply(&pd, err, sizeof err) != 0) {
			fail("%s", err);
			rc = LL_EXIT_ENV;
			goto out;
		}
	}

	struct az_config cfg = {
		.server_ports = o.n_ports ? o.ports : NULL,
		.n_server_ports = o.n_ports,
		.on_conn = sink.f ? on_conn : NULL,
		.conn_slot = sink.f ? conn_slot : NULL,
		.arg = &sink,
		.max_series = REPORT_MAX_SERIES,
		.max_memory = o.max_memory,
		.tls_keys = keys,
	};
	az = az_new(&cfg);
	if (!az) {
		fail("analyzer: out of memory");
		goto out;
	}
	sink.az = az;

	struct cap_limits lim = { .count = o.count, .duration = o.duration };
	if (cap_is_live(cap)) {
		/* no SA_RESTART: a blocking read returns EINTR and the loop sees
		 * the flag at once */
		struct sigaction sa = { .sa_handler = on_stop_signal };
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0) {
			fail("sigaction: %s", strerror(errno));
			goto out;
		}
		lim.stop = &stop_requested;
		/* as tcpdump does: the capture is open, traffic from now on counts */
		tout_fprintf(stderr, PROG ": listening on %s, link-type %s; stop with Ctrl-C\n",
		        o.iface, cap_datalink_name(cap));
		if (isatty(STDERR_FILENO) && clock_gettime(CLOCK_MONOTONIC, &prog.p.start) == 0) {
			/* the first line after a second of capture */
			prog.p.last = prog.p.start;
			prog.cap = cap;
			lim.progress = on_live_progress;
			lim.progress_arg = &prog;
		}
	} else if (isatty(STDERR_FILENO) && ms_total_size(ms) > PROGRESS_MIN_FILE &&
	           clock_gettime(CLOCK_MONOTONIC, &prog.p.start) == 0) {
		/* prog.last stays 0: the first call prints at once */
		lim.progress = on_progress;
		lim.progress_arg = &prog.p;
	}

	if ((ms ? ms_run(ms, az, &lim, read_err, sizeof read_err)
	        : cap_run(cap, az, &lim, read_err, sizeof read_err)) != 0 && !read_err[0])
		snprintf(read_err, sizeof read_err, "read: failed");
	if (lim.stop) {
		/* the capture is over: a second Ctrl-C interrupts as usual */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
	}
	az_finish(az);
	if (prog.p.shown)
		fputs("\r\033[K", stderr);
	have_ks = cap_kernel_stats(cap, &ks) == 0;
	/* as tcpdump does at the end, but only when it matters: what the
	 * kernel dropped was never analyzed */
	if (have_ks && ks.kernel_dropped)
		fprintf(stderr, PROG ": the kernel dropped %" PRIu64 " packet%s (capture buffer "
		        "full; see -B): the analysis is incomplete\n", ks.kernel_dropped,
		        ks.kernel_dropped == 1 ? "" : "s");
	if (have_ks && ks.interface_dropped)
		fprintf(stderr, PROG ": the interface dropped %" PRIu64 " packet%s: the analysis "
		        "may be incomplete\n", ks.interface_dropped,
		        ks.interface_dropped == 1 ? "" : "s");

	if (sink.cw) {
		sink.err = connwriter_finish(sink.cw);
		sink.cw = NULL;
	}
	if (sink.f && sink.f != stdout) {
		if (fclose(sink.f) != 0 && !sink.err)
			sink.err = errno;
		sink.f = NULL;
	} else if (sink.f && fflush(sink.f) != 0 && !sink.err) {
		sink.err = errno;
	}
	if (sink.err) {
		fail("--connections: %s: %s", o.conns_path, strerror(sink.err));
		rc = LL_EXIT_ENV;
		goto out;
	}

	json_t *extra = input_extra(cap, ms);
	struct report_input in = {
		.input_extra = extra,
		.command = "analyze",
		.source = o.n_rfiles ? o.source : o.iface,
		.live = cap_is_live(cap),
		.link_type = ms ? ms_link_type(ms) : cap_datalink_name(cap),
		.filter = o.filter,
		.server_ports = o.ports,
		.n_server_ports = o.n_ports,
		.count = o.count,
		.duration = o.duration,
		.read_error = read_err[0] ? read_err : NULL,
		.kernel_stats = have_ks,
		.kernel_dropped = ks.kernel_dropped,
		.interface_dropped = ks.interface_dropped,
		/* the report's verdict says the exit code the process returns */
		.exit_code = read_err[0] ? LL_EXIT_USAGE :
		             /* what the kernel dropped was never analyzed (issue 13) */
		             (have_ks && ks.kernel_dropped) ? LL_EXIT_UNVOUCHED :
		             (o.fail_on_hazard && az_totals(az)->rst_before_ack > 0) ? 1 : 0,
	};
	/* the path was checked (or opened) before reading: a failure now is
	 * the disk's (ENOSPC, EIO), an environment problem */
	int wrc = early ? report_write_analysis_to(early, az, &in, o.out ? o.out : "-",
	                                           err, sizeof err)
	                : report_write_analysis(az, &in, o.out ? o.out : "-", err, sizeof err);
	early = NULL;  /* closed by report_write_analysis_to */
	json_decref(extra);
	extra = NULL;
	if (wrc != 0) {
		fail("%s", err);
		rc = LL_EXIT_ENV;
		goto out;
	}
	/* the report covers what was readable; the error still decides the
	 * exit code so scripts notice a damaged capture */
	if (read_err[0]) {
		fail("%s", read_err);
		goto out;
	}
	/* frames the kernel dropped leave the verdict unvouched: exit 4 (the
	 * interface's own drops, rx_dropped, also count packets no capture
	 * would ever see, so they are only reported) */
	rc = in.exit_code;
out:
	if (sink.cw)
		connwriter_finish(sink.cw);
	if (sink.f && sink.f != stdout)
		fclose(sink.f);
	if (early && early != stdout)
		fclose(early);
	early = NULL;
	if (az)
		az_free(az);
	az = NULL;
	if (ms)
		ms_close(ms);       /* closes its caps */
	else if (cap)
		cap_close(cap);
	cap = NULL;
	ms = NULL;
	for (size_t i = 0; i < o.n_rfiles; i++)
		free(o.rfiles[i]);
	free(o.rfiles);
	o.rfiles = NULL;
	free(o.source);
	o.source = NULL;
	free(o.filter);
	o.filter = NULL;
	tlskeys_free(keys);
	return rc;
}
