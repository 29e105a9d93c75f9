/*
 * appreport.c - kernel clients' applications and client programs in the
 * report (see appreport.h).
 */
#include "reports/appreport.h"

#include <math.h>
#include <string.h>

#include "reports/safetext.h"
#include "reports/textout.h"

static int set(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v) ? 1 : 0;
}

static int push(json_t *a, json_t *v)
{
	return json_array_append_new(a, v) ? 1 : 0;
}

static json_t *done(json_t *o, int bad)
{
	if (bad || !o) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *jsec(double s)
{
	return isfinite(s) ? json_real(round(s * 1e6) / 1e6) : json_null();
}

static json_t *jint(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *counts(const uint32_t n[SCN_NKSTATES])
{
	json_t *o = json_object();
	int bad = 0;
	for (int k = 0; k < SCN_NKSTATES; k++)
		bad |= set(o, scn_kstate_name((enum scn_kstate)k), jint(n[k]));
	return done(o, bad);
}

json_t *appreport_client_states(const struct run_outcome *o, const struct run_sample *smp)
{
	return o->client_sampled ? counts(smp->nc) : json_null();
}

static json_t *app_conn(const struct run_conn *c)
{
	const struct run_app *a = &c->app;
	json_t *e = json_object();
	int eb = set(e, "connection", c->az_id ? jint(c->az_id) : json_null());
	eb |= set(e, "port", jint(c->port));
	eb |= set(e, "read", json_string(scn_read_policy_name(a->read)));
	eb |= set(e, "connected", json_boolean(c->connected));
	eb |= set(e, "bytes_written", jint(a->bytes_written));
	eb |= set(e, "bytes_read", jint(a->bytes_read));
	eb |= set(e, "eof", json_boolean(a->eof));
	eb |= set(e, "closed_by_app", json_boolean(a->closed_by_app));
	eb |= set(e, "aborted", json_boolean(a->aborted));
	eb |= set(e, "client_state", a->client_state ? json_string(a->client_state)
	                                              : json_null());
	json_t *rsp = json_array();
	int rb = 0;
	for (uint32_t j = 0; j < c->n_records && j < RSP_MAX_RECORDS; j++) {
		json_t *r = json_object();
		int b = set(r, "status", c->rec[j].status ? json_integer(c->rec[j].status)
		                                           : json_null());
		b |= set(r, "complete", json_boolean(c->rec[j].complete));
		b |= set(r, "bytes", jint(c->rec[j].bytes));
		rb |= push(rsp, done(r, b));
	}
	eb |= set(e, "responses", done(rsp, rb));
	json_t *errs = json_array();
	int xb = 0;
	for (uint32_t j = 0; j < a->n_errors && j < RUN_APP_MAX_ERRORS; j++) {
		const char *name = strerrorname_np(a->err[j].errnum);
		json_t *x = json_object();
		int b = set(x, "call", json_string(a->err[j].call));
		b |= set(x, "errno", name ? json_string(name) : json_null());
		b |= set(x, "errno_value", json_integer(a->err[j].errnum));
		b |= set(x, "time", jsec(a->err[j].t));
		xb |= push(errs, done(x, b));
	}
	eb |= set(e, "errors", done(errs, xb));
	eb |= set(e, "errors_dropped", jint(a->errors_dropped));
	char text[400];
	run_app_errors_text(a, text, sizeof text);
	eb |= set(e, "errors_text", json_string(text));
	return done(e, eb);
}

static json_t *program_member(const struct run_program *p)
{
	json_t *o = json_object();
	int b = set(o, "ran", json_boolean(p->ran));
	b |= set(o, "error", p->error[0] ? safe_jstring(p->error) : json_null());
	b |= set(o, "exit_status", p->ran && p->exited ? json_integer(p->exit_status)
	                                               : json_null());
	b |= set(o, "signal", p->signal ? json_integer(p->signal) : json_null());
	b |= set(o, "timed_out", json_boolean(p->timed_out));
	b |= set(o, "duration", p->ran ? jsec(p->duration) : json_null());
	/* the program's own bytes: not necessarily UTF-8 */
	b |= set(o, "stdout_tail", safe_jstring(p->stdout_tail));
	b |= set(o, "stderr_tail", safe_jstring(p->stderr_tail));
	b |= set(o, "output_bytes", jint(p->output_len));
	return done(o, b);
}

int appreport_scenario(json_t *s, const struct run_scenario *rs)
{
	int b = set(s, "client_kind", json_string(scn_client_name(rs->client)));
	if (rs->client == SCN_CLIENT_KERNEL) {
		json_t *a = json_array();
		int ab = 0;
		for (size_t i = 0; i < rs->n_conns && i < APPREPORT_MAX_CONNS; i++)
			ab |= push(a, app_conn(&rs->conns[i]));
		b |= set(s, "app", done(a, ab));
	} else {
		b |= set(s, "app", json_null());
	}
	b |= set(s, "program", rs->client == SCN_CLIENT_COMMAND ? program_member(&rs->program)
	                                                         : json_null());
	b |= set(s, "client_kernel_peak", rs->client != SCN_CLIENT_RAW
	         ? counts(rs->client_kernel_peak) : json_null());
	return b ? -1 : 0;
}

/* The last line of a tail, for a one-line summary. */
static void last_line(const char *tail, char *out, size_t cap)
{
	size_t n = strlen(tail);
	while (n && (tail[n - 1] == '\n' || tail[n - 1] == '\r'))
		n--;
	size_t from = n;
	while (from && tail[from - 1] != '\n')
		from--;
	snprintf(out, cap, "%.*s", (int)(n - from), tail + from);
}

/* The client namespace's own sockets, the states seen (peak counts). */
static void print_client_states(FILE *f, const struct run_scenario *rs)
{
	char line[256];
	size_t len = 0;
	for (int k = 0; k < SCN_NKSTATES; k++) {
		if (!rs->client_kernel_peak[k])
			continue;
		int r = snprintf(line + len, sizeof line - len, "%s%s %u", len ? ", " : "",
		                 scn_kstate_name((enum scn_kstate)k), rs->client_kernel_peak[k]);
		if (r > 0 && (size_t)r < sizeof line - len)
			len += (size_t)r;
	}
	if (len)
		tout_fprintf(f, "    client sockets seen (peak): %s\n", line);
}

void appreport_print(FILE *f, const struct run_scenario *rs)
{
	if (rs->client != SCN_CLIENT_RAW)
		print_client_states(f, rs);
	if (rs->client == SCN_CLIENT_KERNEL) {
		size_t shown = 0;
		for (size_t i = 0; i < rs->n_conns && shown < 4; i++, shown++) {
			const struct run_conn *c = &rs->conns[i];
			char errs[300], resp[64];
			run_app_errors_text(&c->app, errs, sizeof errs);
			if (c->n_records)
				snprintf(resp, sizeof resp, "got %u (%s)", c->rec[0].status,
				         c->rec[0].complete ? "complete" : "incomplete");
			else
				snprintf(resp, sizeof resp, "got no response");
			tout_fprintf(f, "    app (port %u, read %s): %s, read %llu bytes%s; %s\n",
			             c->port, scn_read_policy_name(c->app.read), resp,
			             (unsigned long long)c->app.bytes_read,
			             c->app.eof ? " and end-of-file" : "", errs);
		}
		if (rs->n_conns > shown)
			tout_fprintf(f, "    ... and %zu more connections (see the report)\n",
			             rs->n_conns - shown);
	} else if (rs->client == SCN_CLIENT_COMMAND) {
		const struct run_program *p = &rs->program;
		char line[200];
		if (!p->ran) {
			tout_fprintf(f, "    client program did not run: %s\n", p->error);
			return;
		}
		if (p->exited)
			tout_fprintf(f, "    client program: exit %d after %.3f s\n", p->exit_status,
			             p->duration);
		else
			tout_fprintf(f, "    client program: killed by signal %d%s after %.3f s\n",
			             p->signal, p->timed_out ? " (the scenario's timeout)" : "",
			             p->duration);
		last_line(p->stderr_tail, line, sizeof line);
		if (line[0])
			tout_fprintf(f, "    its stderr ends: %s\n", line);
	}
}
