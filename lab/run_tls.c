/*
 * run_tls.c - TLS over the raw client (run_int.h). A connection with TLS
 * (the scenario's `tls`, or run --tls) runs its handshake when TCP's is
 * done, and `connect` waits for both. What a step sends is plaintext for
 * OpenSSL (lab/tlsclient.c); what OpenSSL writes for the wire goes into
 * the raw client's send stream in pieces of 16 KiB (a piece waits while
 * the send buffer is full); what arrives is fed to OpenSSL in order and
 * the plaintext goes to the response scanner, so expectations on
 * responses judge the decrypted view. A body is written through TLS by a
 * paced generator of its own (rtls_body_tick). The session keys go to an
 * NSS key log beside the capture, so Wireshark can decrypt it.
 */
#include "lab/run_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>



static void tls_settings(const struct runner *R, struct scn_tls *t)
{
	if (R->scn->tls.on) {
		*t = R->scn->tls;
	} else {
		memset(t, 0, sizeof *t);
		t->on = R->cfg->tls;
		t->version = R->cfg->tls_version;
		t->close_notify = true;
	}
	if (!t->sni[0] && R->cfg->tls_sni)
		snprintf(t->sni, sizeof t->sni, "%s", R->cfg->tls_sni);
}

/* The capture's path with ".keys" for ".pcap" (or added). */
static char *keylog_path(const struct runner *R)
{
	const char *c = R->cfg->capture_path;
	size_t n = strlen(c);
	char *p;

	if (R->cfg->tls_keylog)
		return strdup(R->cfg->tls_keylog);
	if (n > 5 && !strcmp(c + n - 5, ".pcap"))
		n -= 5;
	p = malloc(n + 6);
	if (p) {
		memcpy(p, c, n);
		memcpy(p + n, ".keys", 6);
	}
	return p;
}

/* Queue what OpenSSL has for the wire; false if some must wait for room
 * in the send buffer (or the connection can send no more). */
bool rtls_pump(struct rconn *rc)
{
	char err[200];
	const uint8_t *p;
	size_t n;

	while ((n = tlsc_peek_out(rc->tls, &p)) > 0) {
		if (n > TLS_PIECE)
			n = TLS_PIECE;
		if (rawtcp_send(rc->k, p, n, err, sizeof err) < 0) {
			if (!strstr(err, "send buffer full") && !rc->dropped_noted) {
				rconn_note(rc, "TLS: %s", err);
				rc->dropped_noted = true;
			}
			return false;
		}
		tlsc_drop_out(rc->tls, n);
	}
	return true;
}

/* TCP's handshake is done: start TLS's. */
void rtls_start(struct runner *R, struct rconn *rc)
{
	struct scn_tls t;
	char err[256];

	tls_settings(R, &t);
	if (!R->keylog && R->o && !R->o->keylog_path) {
		R->o->keylog_path = keylog_path(R);
		if (R->o->keylog_path && !(R->keylog = fopen(R->o->keylog_path, "w")))
			rconn_note(rc, "TLS key log %s: %s", R->o->keylog_path, strerror(errno));
	}
	struct tlsc_opts o = {
		.sni = t.sni[0] ? t.sni : NULL, .version = t.version,
		.alpn = t.alpn[0] ? t.alpn : NULL, .verify = t.verify, .keylog = R->keylog,
	};
	rc->tls = tlsc_new(&o, err, sizeof err);
	if (!rc->tls) {
		rconn_note(rc, "%s", err);
		rc->tls_failed = true;
		rawtcp_abort(rc->k);
		return;
	}
	if (tlsc_handshake(rc->tls, err, sizeof err) < 0) {
		rconn_note(rc, "%s", err);
		rc->tls_failed = true;
		rawtcp_abort(rc->k);
		return;
	}
	rtls_pump(rc);
}

/* Server bytes arrived (in order): through OpenSSL to the scanner. */
void rtls_input(struct runner *R, struct rconn *rc, const uint8_t *p, size_t n)
{
	char err[256];
	uint8_t plain[16384];
	ssize_t got;

	if (!rc->tls)
		return;
	if (tlsc_feed(rc->tls, p, n) < 0) {
		rconn_note(rc, "TLS: input refused");
		return;
	}
	/* every server byte counts, the handshake's too: response wire
	 * offsets are sequence offsets in the server's stream */
	uint64_t before = rc->tls_wire;
	rc->tls_wire += n;
	if (!tlsc_done(rc->tls)) {
		int h = tlsc_handshake(rc->tls, err, sizeof err);
		rtls_pump(rc);
		if (h < 0) {
			rconn_note(rc, "%s", err);
			rc->tls_failed = true;
			rawtcp_abort(rc->k);
			return;
		}
		if (h == 0)
			return;
		snprintf(rc->out->tls_version, sizeof rc->out->tls_version, "%s",
		         tlsc_version(rc->tls));
	}
	while ((got = tlsc_read(rc->tls, plain, sizeof plain, err, sizeof err)) > 0)
		rsp_feed(&rc->http, plain, (size_t)got);
	if (got < 0)
		rconn_note(rc, "%s", err);
	/* where each response travelled on the wire, as far as deliveries
	 * tell: the finding's bytes at risk are wire bytes */
	for (uint32_t i = 0; i < rc->http.n_records; i++) {
		struct rsp_record *r = &rc->http.rec[i];
		if (!r->wire_start)
			r->wire_start = before + 1;
		if (r->complete && !r->wire_end)
			r->wire_end = rc->tls_wire + 1;
	}
	if (tlsc_peer_closed(rc->tls) && !rc->out->tls_peer_close_notify) {
		struct scn_tls t;
		tls_settings(R, &t);
		rc->out->tls_peer_close_notify = true;
		rc->tls_stop_sends = t.stop_after_close_notify;
		rconn_fin_check(R, rc);
	}
	rtls_pump(rc); /* alerts, key updates */
}

/* TCP ended, or the server's FIN came, before TLS's handshake was over:
 * say so (once) in words that name the handshake and how far the
 * server's answer got. True when `connect` has failed: a handshake
 * cannot finish once the server has closed or reset. */
bool rtls_handshake_cut(struct rconn *rc, unsigned line)
{
	struct rawtcp_conn_info info;

	if (!rc->tls_on || !rc->established || (rc->tls && tlsc_done(rc->tls)))
		return false;
	if (rc->tls_failed)                /* the reason is in the notes */
		return rconn_closed(rc);
	/* TCP's own view: events queued in one batch may not have reached
	 * the runner yet (its data, its RST) */
	rawtcp_conn_info(rc->k, &info);
	bool reset = info.peer_rst || (info.state == RAWTCP_CLOSED &&
	                               info.close_reason == RAWTCP_CLOSE_RESET);
	if (!reset && !info.peer_fin && info.state != RAWTCP_CLOSED)
		return false;
	const char *how = reset ? "the server reset the connection"
	                : info.peer_fin ? "the server closed the connection (FIN)"
	                : info.close_reason == RAWTCP_CLOSE_TIMEOUT ? "the connection timed out"
	                : "the connection ended";
	if (info.rx_received)
		rconn_note(rc, "line %u: TLS handshake cut: %s; the server had sent %llu "
		     "bytes, not the whole handshake", line, how,
		     (unsigned long long)info.rx_received);
	else
		rconn_note(rc, "line %u: TLS handshake cut: %s after our ClientHello, "
		     "before the server sent a byte", line, how);
	return true;
}

/* Our close_notify, ahead of our FIN, unless the scenario says never. */
void rtls_close(struct runner *R, struct rconn *rc)
{
	struct scn_tls t;

	if (!rc->tls || !tlsc_done(rc->tls))
		return;
	tls_settings(R, &t);
	if (t.close_notify && tlsc_close_notify(rc->tls) == 0)
		rtls_pump(rc);
}

void rtls_body_arm(struct runner *R, struct rconn *rc, uint64_t after_us)
{
	char err[200];
	uint64_t cookie = (uint64_t)(rc->idx + 1) << 40 |
	                  (uint64_t)(R->seq & 0xff) << 32 | (++rc->tb_gen | TB_GEN_FLAG);
	if (!rawtcp_timer_add(R->c, rawtcp_now_us() + after_us, cookie, err, sizeof err))
		runner_fatal(R, "%s", err);
}


/* The body through TLS: a chunk of the pattern each tick (at the
 * scenario's rate), as many as the send buffer takes when unpaced. */
void rtls_body_tick(struct runner *R, struct rconn *rc)
{
	static const char pattern[] = "lingerlab body through TLS 0123456789abcdefghijklmnopqrstuvwxyz\n";
	uint8_t chunk[TLS_PIECE];
	char err[256];

	if (!rc->tb_on)
		return;
	if (rconn_closed(rc) || rc->peer_rst || rc->tls_stop_sends) {
		rc->tb_on = false;
		rc->body_active = false;
		if (rconn_try_unblock(R, rc))
			rconn_advance(R, rc);
		return;
	}
	for (int k = 0; k < 64 && rc->tb_left > 0; k++) {
		if (!rtls_pump(rc)) {               /* the wire is full: wait */
			rtls_body_arm(R, rc, SEND_RETRY_US);
			return;
		}
		size_t n = rc->tb_chunk < rc->tb_left ? rc->tb_chunk : (size_t)rc->tb_left;
		for (size_t i = 0; i < n; i++)
			chunk[i] = (uint8_t)pattern[i % (sizeof pattern - 1)];
		if (tlsc_write(rc->tls, chunk, n, err, sizeof err) < 0) {
			rconn_note(rc, "%s", err);
			rc->tb_left = 0;
			break;
		}
		rc->tb_left -= n;
		rtls_pump(rc);
		if (rc->tb_rate > 0 && rc->tb_left > 0) {
			rtls_body_arm(R, rc, (uint64_t)n * 1000000 / rc->tb_rate);
			return;
		}
	}
	if (rc->tb_left > 0) {
		rtls_body_arm(R, rc, 0);
		return;
	}
	rc->tb_on = false;
	rc->body_active = false;
	rconn_fin_check(R, rc);
	if (rconn_try_unblock(R, rc))
		rconn_advance(R, rc);
}
