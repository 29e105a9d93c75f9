/*
 * explain.h - the story `lingerlab explain` tells about one connection:
 * what is known before walking its packets, and the notes printed under
 * the packets that matter (reports/explain_notes.c). cmd_explain.c lays the
 * connection out and runs the walk.
 *
 * Nothing here decides anything the analyzer has not decided: every note
 * reads the report's findings, their impact and the connection record.
 * Everything borrowed from the report lives as long as its root.
 * reports/story.c tells how each teardown ended and picks the remedy.
 *
 * Two forms: plain text (wrapped notes under the packet lines, colour only
 * when asked) and Markdown (packet lines in fenced code blocks, notes as
 * block quotes between them), for slides and course notes.
 */
#ifndef LL_REPORTS_EXPLAIN_H
#define LL_REPORTS_EXPLAIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reports/reportfile.h"
#include "reports/textout.h"

#define NOTE_PREFIX "             | "

enum ex_format { EX_TEXT = 0, EX_MARKDOWN };

/* What we know about one connection before walking its packets. */
struct story {
	enum ex_format fmt;
	bool in_code;               /* Markdown: inside a ``` block */
	const json_t *root, *conn;
	const json_t *finding;      /* the connection's first finding (the
	                               server's, if any), NULL if none */
	const json_t *other;        /* its second (the client's RST), or NULL */
	struct rf_timeline tl;
	double t0;                  /* first timeline packet */
	bool have_rtt;
	double to_server, to_client;

	bool s_fin_known;           /* s2c.fin_seq is a number */
	uint32_t s_fin_seq;
	bool c_fin_known;
	uint32_t c_fin_seq;
	uint32_t s_data_end;        /* s2c.data_end */
	int status;                 /* HTTP status of the response at risk or
	                               the last one seen, 0 if none */
	long long resp_index;
	long long rst_packet;       /* the finding's RST, -1 if none */
	const char *finding_sender; /* "server" / "client" */
	bool lingered;
	const char *linger_end;     /* linger.ended_by, NULL if not given */
	double linger_seconds;
	long long linger_bytes;
	const json_t *fw2_server, *fw2_client;

	/* walk state */
	bool seen_s_fin, seen_c_fin, seen_other_rst;
	bool noted_rst[2];          /* finding's, other's RST note printed */
	bool noted_estimate;
	const json_t *last_fate_f;  /* the last RST fate told: its finding, */
	long long last_fate_key;    /* seq and peer ACK, */
	bool last_before_accept;    /* before the accepted RST, */
	const char *last_fate_acc;  /* and accept */
	bool noted_handshake, noted_response, noted_late_data, noted_fw2,
	     noted_linger, noted_all_acked, noted_client_fin, noted_s_fin;
	double s_fin_t, last_s_data_t, c_fin_t;
	bool seen_s_data;
	long long late_bytes;       /* client payload after the server FIN */
	long long late_packets;
	bool noted_fin_again[2];    /* [c2s, s2c]: a repeated FIN told */
	int rst_told[2];            /* [c2s, s2c]: how the last RST told fared
	                               (explain_close.c), 0: none told */
};

/* A RST no finding speaks for, as the timeline shows it (explain_close.c):
 * relative numbers in its sender's sequence space. */
struct ex_rst {
	size_t k;                   /* its timeline index */
	uint32_t seq, nxt, wup, win;/* its seq; the receiver's RCV.NXT (what the
	                               sender had sent), last ACK, last window
	                               (0: unknown) */
	int fate;                   /* enum az_accept: az_rst_accept() on those */
	bool peer_reset;            /* the receiver had sent a RST before */
	bool syn_sent;              /* it answers a SYN (no SYN of the sender's
	                               before it): not judged by its seq */
	long long answer;           /* timeline index of its challenge ACK, -1 */
	long long went_on;          /* of the receiver's first packet (not a RST)
	                               sent after the RST reached it, -1 */
	bool both_on;               /* and the RST's sender sent after that */
	bool ended;                 /* it ended the connection (judge.c rule 4) */
};


/* s as a duration a person reads: "250 µs", "12.5 ms", "1.250 s". */
const char *ex_ms(double s, char *buf, size_t len);

/* One note, wrapped under the packet lines (Markdown: a block quote,
 * closing the code block the packet lines are in). */
void ex_note(const struct tout *o, struct story *s, const char *text);

/* Markdown: open the code block packet lines go in, unless open. */
void ex_code(const struct tout *o, struct story *s);
/* Markdown: close it, if open. */
void ex_end_code(const struct tout *o, struct story *s);

/* Fill s from connection conn of report root (s->tl is left empty). */
void ex_story_init(struct story *s, const json_t *root, const json_t *conn);

/* Notes that belong after timeline packet k; printed right under its line. */
void ex_packet_notes(const struct tout *o, struct story *s, size_t k);

/* Notes after the last packet: lingering and FIN_WAIT_2 not told yet. */
void ex_closing_notes(const struct tout *o, struct story *s);

/* The closing paragraph for every connection: how the teardown went
 * (who closed, simultaneous close, half-close, lingering and how it
 * ended, abort, refusal, TIME_WAIT and CLOSING, and what the peer did with
 * each judged RST, with RFC 5961's reason). */
void ex_teardown_story(const struct tout *o, struct story *s);

/* True when finding f's RST sender gave up retransmitting: the packets
 * right before its RST are two or more resends of bytes it had sent, with
 * nothing from the peer in between; *retx gets how many. */
bool ex_gave_up(const struct story *s, const json_t *f, int *retx);

/* True when finding f's RST sender sent a FIN before its RST (in the
 * timeline): a close that reset, never an abort with SO_LINGER 0, which
 * sends no FIN. */
bool ex_fin_before(const struct story *s, const json_t *f);

/* The remedy that fits finding f's cause, as a sentence: a lingering
 * close for data_after_fin and unread_at_close; not for an abort or a
 * sender that gave up retransmitting. */
void ex_remedy(const struct story *s, const json_t *f, struct sbuf *b);

/* explain_close.c: the packets that close, where no finding speaks. */

/* The RST at timeline index k, as the timeline shows it. */
void ex_rst_view(const struct story *s, size_t k, struct ex_rst *v);

/* The same on any timeline: h_recv is the round trip from the capture
 * point to the RST's receiver and back (0: not known, capture order). The
 * ladder labels its RSTs with it. */
void ex_rst_judge(const struct rf_timeline *tl, size_t k, double h_recv, struct ex_rst *v);

/* What the receiver did with the RST v, and why (RFC 5961 3.2). */
void ex_rst_fate_words(const struct story *s, const struct ex_rst *v, struct sbuf *b);

/* Notes after timeline packet k: a FIN sent again (the first of each
 * side's), a RST no finding speaks for (one of a run that fares alike). */
void ex_close_notes(const struct tout *o, struct story *s, size_t k);

/* For the closing paragraph: what the receiver made of each side's first
 * RST no finding speaks for (clean-up RSTs left out). */
void ex_rst_end_words(const struct story *s, struct sbuf *b);

/* Packet i is one of the lab runner's clean-up RSTs. */
bool ex_cleanup_rst(const struct story *s, long long i);

/* A server FIN_WAIT_2 interval fw2 that a RST ended: with a lab report's
 * kernel samples for the connection, how the kernel timed the socket out
 * (true, words added); else false. */
bool ex_fw2_kernel_words(const struct story *s, const json_t *fw2, struct sbuf *b);

/* The same from the capture alone, when a second or more of silence came
 * before the RST: the socket may have expired before it (true). */
bool ex_fw2_silence_words(const struct story *s, const json_t *fw2, struct sbuf *b);

/* For the closing paragraph: the server's FIN_WAIT_2 socket that its
 * kernel timed out (lab report), and the clean-up RST that found none. */
void ex_fw2_cleanup_words(const struct story *s, struct sbuf *b);

/* What to print at the end of packet i's line ("  <- the RST", how the
 * peer takes another RST), or "". */
const char *ex_packet_mark(const struct story *s, long long i);

#endif
