/*
 * scn_options.c - the statements that name and set up a scenario
 * (docs/scenario-language.md, "Metadata and options"): scenario, about,
 * host, rtt, client, timeout, tcp_fin_timeout, tls. One function per
 * statement; each may appear once.
 */
#include "lab/scn_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- statements -------------------------------------------------------- */

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool scn_st_scenario(struct parser *ps, const struct tok *kw)
{
	if (ps->have_scenario) {
		scn_fail_tok(ps, kw, "one \"scenario\" per file");
		return false;
	}
	ps->have_scenario = true;
	ps->s->name_line = ps->line;
	const struct tok *t = scn_next(ps);
	bool ok = t && t->kind == TOK_WORD && t->len <= SCN_MAX_NAME;
	for (size_t i = 0; ok && i < t->len; i++)
		ok = is_name_char(t->p[i]);
	if (!ok) {
		scn_fail_tok(ps, t, "a scenario name (letters, digits, '.', '_', '-'; at most %d)",
		             SCN_MAX_NAME);
		return false;
	}
	memcpy(ps->s->name, t->p, t->len);
	ps->s->name[t->len] = '\0';
	return scn_expect_end(ps);
}

bool scn_once(struct parser *ps, const struct tok *kw, bool *flag)
{
	if (*flag) {
		char word[32];
		snprintf(word, sizeof word, "%.*s", (int)kw->len, kw->p);
		scn_fail_tok(ps, kw, "one \"%s\" per scenario", word);
		return false;
	}
	*flag = true;
	return true;
}

bool scn_st_about_host(struct parser *ps, const struct tok *kw, bool about)
{
	if (!scn_once(ps, kw, about ? &ps->have_about : &ps->have_host))
		return false;
	struct scn_bytes b = { 0 };
	if (!scn_get_strings(ps, &b))
		return false;
	if (!about && (b.len == 0 || memchr(b.data, '\r', b.len) ||
	               memchr(b.data, '\n', b.len) || memchr(b.data, '\0', b.len))) {
		scn_fail_tok(ps, &ps->toks[ps->cur - 1], "a host name without CR, LF or NUL");
		free(b.data);
		return false;
	}
	char *s = scn_dup_bytes(&b);
	free(b.data);
	if (!s) {
		scn_oom(ps);
		return false;
	}
	if (about)
		ps->s->about = s;
	else
		ps->s->host = s;
	return scn_expect_end(ps);
}

bool scn_st_rtt(struct parser *ps, const struct tok *kw)
{
	if (!scn_once(ps, kw, &ps->have_rtt))
		return false;
	if (!scn_get_duration(ps, scn_next(ps), 0, &ps->s->rtt_us))
		return false;
	return scn_expect_end(ps);
}

/* `client raw|kernel|command "COMMAND"`: before the first step, since it
 * decides which steps exist (see docs/scenario-language.md, "Kernel
 * clients" and "Client programs"). */
bool scn_st_client(struct parser *ps, const struct tok *kw)
{
	if (!scn_once(ps, kw, &ps->have_client))
		return false;
	if (ps->first_step_line) {
		scn_fail_tok(ps, kw, "\"client\" before the first step (line %u)", ps->first_step_line);
		return false;
	}
	const struct tok *t = scn_next(ps);
	if (scn_tok_is(t, "raw")) {
		ps->s->client = SCN_CLIENT_RAW;
	} else if (scn_tok_is(t, "kernel")) {
		ps->s->client = SCN_CLIENT_KERNEL;
	} else if (scn_tok_is(t, "command")) {
		struct scn_bytes b = { 0 };
		if (!scn_get_strings(ps, &b))
			return false;
		if (b.len == 0 || b.len > SCN_MAX_COMMAND || memchr(b.data, '\0', b.len)) {
			scn_fail_tok(ps, &ps->toks[ps->cur - 1],
			             "a command of 1 to %d bytes without NUL", SCN_MAX_COMMAND);
			free(b.data);
			return false;
		}
		ps->s->client_command = scn_dup_bytes(&b);
		free(b.data);
		if (!ps->s->client_command) {
			scn_oom(ps);
			return false;
		}
		ps->s->client = SCN_CLIENT_COMMAND;
	} else {
		scn_fail_tok(ps, t, "raw, kernel or command");
		return false;
	}
	return scn_expect_end(ps);
}

bool scn_st_timeout(struct parser *ps, const struct tok *kw)
{
	if (!scn_once(ps, kw, &ps->have_timeout))
		return false;
	if (!scn_get_duration(ps, scn_next(ps), 1000, &ps->s->timeout_us))
		return false;
	return scn_expect_end(ps);
}

/* tcp_fin_timeout DURATION: net.ipv4.tcp_fin_timeout of the server
 * namespace while the scenario runs; the sysctl counts whole seconds. */
bool scn_st_fin_timeout(struct parser *ps, const struct tok *kw)
{
	if (!scn_once(ps, kw, &ps->have_fin_timeout))
		return false;
	const struct tok *t = scn_next(ps);
	int64_t us;
	if (!scn_get_duration(ps, t, 0, &us))
		return false;
	if (us % 1000000 || us < SCN_MIN_FIN_TIMEOUT_S * 1000000LL ||
	    us > SCN_MAX_FIN_TIMEOUT_S * 1000000LL) {
		scn_fail_tok(ps, t, "a tcp_fin_timeout in whole seconds from %ds to %ds",
		             SCN_MIN_FIN_TIMEOUT_S, SCN_MAX_FIN_TIMEOUT_S);
		return false;
	}
	ps->s->tcp_fin_timeout = (uint32_t)(us / 1000000);
	return scn_expect_end(ps);
}

/* tls [version 1.2|1.3] [sni "NAME"] [alpn "PROTO"] [verify]
 *     [close-notify send|never] [after close-notify continue|stop] */
bool scn_st_tls(struct parser *ps, const struct tok *kw)
{
	struct scn_tls *T = &ps->s->tls;
	if (!scn_once(ps, kw, &ps->have_tls))
		return false;
	T->on = true;
	T->close_notify = true;
	const struct tok *t;
	while ((t = scn_peek(ps)) != NULL) {
		ps->cur++;
		if (scn_tok_is(t, "version")) {
			const struct tok *v = scn_next(ps);
			if (scn_tok_is(v, "1.2"))
				T->version = 12;
			else if (scn_tok_is(v, "1.3"))
				T->version = 13;
			else {
				scn_fail_tok(ps, v, "a TLS version: 1.2 or 1.3");
				return false;
			}
		} else if (scn_tok_is(t, "sni") || scn_tok_is(t, "alpn")) {
			bool sni = scn_tok_is(t, "sni");
			struct scn_bytes b = { 0 };
			size_t cap = sni ? sizeof T->sni : sizeof T->alpn;
			if (!scn_get_strings(ps, &b))
				return false;
			if (b.len == 0 || b.len >= cap || memchr(b.data, '\0', b.len)) {
				scn_fail_tok(ps, &ps->toks[ps->cur - 1], "%s of 1 to %zu bytes without NUL",
				             sni ? "a server name" : "an ALPN protocol", cap - 1);
				free(b.data);
				return false;
			}
			memcpy(sni ? T->sni : T->alpn, b.data, b.len);
			(sni ? T->sni : T->alpn)[b.len] = '\0';
			free(b.data);
		} else if (scn_tok_is(t, "verify")) {
			T->verify = true;
		} else if (scn_tok_is(t, "close-notify")) {
			const struct tok *v = scn_next(ps);
			if (scn_tok_is(v, "send"))
				T->close_notify = true;
			else if (scn_tok_is(v, "never"))
				T->close_notify = false;
			else {
				scn_fail_tok(ps, v, "\"send\" or \"never\"");
				return false;
			}
		} else if (scn_tok_is(t, "after")) {
			const struct tok *v = scn_next(ps);
			if (!scn_tok_is(v, "close-notify")) {
				scn_fail_tok(ps, v, "\"close-notify\"");
				return false;
			}
			v = scn_next(ps);
			if (scn_tok_is(v, "continue"))
				T->stop_after_close_notify = false;
			else if (scn_tok_is(v, "stop"))
				T->stop_after_close_notify = true;
			else {
				scn_fail_tok(ps, v, "\"continue\" or \"stop\"");
				return false;
			}
		} else {
			scn_fail_tok(ps, t, "version, sni, alpn, verify, close-notify or after");
			return false;
		}
	}
	return scn_expect_end(ps);
}
