/*
 * analyzer.h - follow every TCP connection in a packet stream and say how
 * each one ended.
 *
 * The analyzer takes frames one at a time from any source (a file, a live
 * interface, the lab's own capture) and knows nothing about where they came
 * from, nor about JSON. Vocabulary is shared/DESIGN.md's: client, server,
 * c2s / s2c, data_end, fin_seq, acked, rst_before_ack, fin_wait_2,
 * lingering close, teardown class.
 *
 * Sequence numbers in every record are relative to the direction's ISN: the
 * SYN occupies 0 and the first data byte is 1. Without a SYN in the capture
 * the base is the first sequence number seen minus 1 (so again the first
 * byte seen is 1). Times are absolute seconds (pcap timestamps) unless a
 * field says otherwise. Packet indexes are 1-based positions in the input
 * (every frame counts, TCP or not, and so does a frame a filter rejected,
 * see az_skip_frame()), so they index the saved pcap.
 *
 * A connection ends when both FINs are ACKed or at its first RST; packets
 * on its 4-tuple within its grace period (4 round trips, 2 to 60 s of
 * capture time; 60 s after a RST that seemed not to end it) still count on
 * it, unless a SYN with a new sequence number starts a new one. Which RST
 * ended it is judged at the end (judge.c rule 4): only one its receiver
 * took; kind, initiator and end states follow that RST, or the FINs. After a graceful end (both FINs ACKed, no RST) every
 * byte was acknowledged: a late RST makes the kind AZ_KIND_RESET but is
 * not judged as rst_before_ack, and lingering is measured up to the end.
 *
 * Memory: no allocation per packet. Live connections sit in a hash table
 * that grows geometrically; a finished connection is summarized, handed to
 * the on_conn callback and freed. Only connections with a finding are
 * retained (up to max_retained) for the report.
 *
 * Ownership: everything returned by an accessor is owned by the analyzer
 * and valid until az_free().
 */
#ifndef LL_ANALYZER_ANALYZER_H
#define LL_ANALYZER_ANALYZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"

struct az; /* opaque */
struct tlskeys; /* analyzer/tlskeys.h */

enum az_side { AZ_CLIENT = 0, AZ_SERVER = 1 };
enum az_dir_id { AZ_C2S = 0, AZ_S2C = 1 };

enum az_initiator {
	AZ_INIT_NONE = 0,        /* nobody closed (still open at capture end) */
	AZ_INIT_CLIENT,          /* the client sent the first FIN or RST */
	AZ_INIT_SERVER,
	AZ_INIT_SIMULTANEOUS,    /* both FINs crossed (each sent before seeing
	                            the other's) */
};
#define AZ_NINITIATORS 4

/* Zeek's conn.log conn_state, computed as Zeek computes it (zeek.c). */
enum az_zeek_state {
	AZ_ZK_S0 = 0, AZ_ZK_S1, AZ_ZK_SF, AZ_ZK_REJ, AZ_ZK_S2, AZ_ZK_S3,
	AZ_ZK_RSTO, AZ_ZK_RSTR, AZ_ZK_RSTOS0, AZ_ZK_RSTRH, AZ_ZK_SH,
	AZ_ZK_SHR, AZ_ZK_OTH,
};
#define AZ_NZEEK_STATES 13
/* Room for a Zeek history string and its NUL. */
#define AZ_ZEEK_HISTORY_SIZE 24

enum az_kind {
	AZ_KIND_OPEN = 0,        /* no FIN or RST seen */
	AZ_KIND_GRACEFUL,        /* both FINs, no RST */
	AZ_KIND_HALF_OPEN,       /* one side's FIN only, no RST */
	AZ_KIND_FIN_THEN_RST,    /* the RST sender had sent its FIN first
	                            (close() then late data) */
	AZ_KIND_ABORT,           /* the RST sender had sent no FIN
	                            (SO_LINGER 0, close with unread data) */
	AZ_KIND_RESET,           /* other resets: a refused SYN, RST after both
	                            FINs */
};
#define AZ_NKINDS 6

/* A side's TCP state as far as the wire shows it (RFC 9293 3.3.2). */
enum az_state {
	AZ_ST_UNKNOWN = 0,
	AZ_ST_SYN_SENT,
	AZ_ST_SYN_RECEIVED,
	AZ_ST_ESTABLISHED,
	AZ_ST_FIN_WAIT_1,
	AZ_ST_FIN_WAIT_2,
	AZ_ST_CLOSING,
	AZ_ST_TIME_WAIT,
	AZ_ST_CLOSE_WAIT,
	AZ_ST_LAST_ACK,
	AZ_ST_CLOSED,
};
#define AZ_NSTATES 11

enum az_fw2_end {
	AZ_FW2_CLIENT_FIN = 0,   /* the peer that left us in FIN_WAIT_2 sent FIN */
	AZ_FW2_CLIENT_RST,       /* ... or RST */
	AZ_FW2_SERVER_RST,       /* the FIN_WAIT_2 holder itself reset */
	AZ_FW2_CAPTURE_END,      /* censored: still in FIN_WAIT_2 at the end */
};
#define AZ_NFW2_ENDS 4
/* For the client-side table (client closed first) the names keep their
 * meaning by role: "client_fin" there means the *server's* FIN ended it.
 * Reports name the endings by role of the peer: peer_fin, peer_rst,
 * holder_rst, capture_end are the generic meanings. */

enum az_cause {
	AZ_CAUSE_UNKNOWN = 0,
	AZ_CAUSE_DATA_AFTER_FIN, /* the peer kept sending after the RST sender's
	                            FIN: it had stopped reading */
	AZ_CAUSE_UNREAD_AT_CLOSE,/* RST without FIN while peer data was unacked
	                            or had just arrived; or RST after the
	                            sender's FIN, no peer data after it, while
	                            the peer had sent data (close() with it
	                            unread after shutdown()) */
	AZ_CAUSE_ABORT,          /* RST and no peer data pending (after a FIN:
	                            the peer sent no data at all) */
};

enum az_vantage {
	AZ_VANTAGE_UNKNOWN = 0,  /* no handshake timing */
	AZ_VANTAGE_CLIENT,       /* capture point next to the client */
	AZ_VANTAGE_SERVER,
	AZ_VANTAGE_MIDDLE,
};

/* What decided the RST sender's view (how much of its data it knew was
 * acknowledged when it sent the RST). Packet evidence is proof and wins
 * over the estimates; see analyzer/judge.c. */
enum az_basis {
	AZ_BASIS_CAPTURE_ORDER = 0, /* no handshake: judged in capture order */
	AZ_BASIS_TIMING,            /* judged with h_s / h_c from the handshake */
	AZ_BASIS_EVIDENCE,          /* a packet proves the sender had the ACK:
	                               it ACKed the peer segment that carried it,
	                               or its RST (no ACK flag) answers it */
};

/* What a RST does at its receiver, under RFC 5961 3.2 as Linux
 * (tcp_validate_incoming, tcp_reset_check), the BSDs and current Windows
 * implement it. */
enum az_accept {
	AZ_ACCEPT_RESET = 0,       /* seq == RCV.NXT (Linux: or RCV.NXT-1 once the
	                              sender's FIN is in): the connection is reset */
	AZ_ACCEPT_CHALLENGE_ACK,   /* in the window but not exact: the receiver
	                              answers with an ACK and keeps the connection */
	AZ_ACCEPT_IGNORED,         /* outside the window (a stale seq): dropped */
};
#define AZ_NACCEPTS 3

/* client_impact of a finding: what the RST sender's peer lived through. */
enum az_impact {
	AZ_IMPACT_RESET_BEFORE_ACK = 0, /* the first RST it accepts came while some
	                              of the sender's data was not yet ACKed by it */
	AZ_IMPACT_RESET_AFTER_ACK, /* it accepted a RST only after it had ACKed all
	                              of the data */
	AZ_IMPACT_NO_RESET,        /* no RST in the capture would be accepted */
};
#define AZ_NIMPACTS 3

/* How a lingering close ended (the server's FIN, then client data ACKed). */
enum az_linger_end {
	AZ_LINGER_CLIENT_FIN = 0,  /* the client's FIN was accepted */
	AZ_LINGER_SERVER_RST,      /* the server reset: its linger limit ran out */
	AZ_LINGER_CLIENT_RST,
	AZ_LINGER_CAPTURE_END,
};
#define AZ_NLINGER_ENDS 4

/* Why an encrypted TLS record was not decrypted (with --tls-keylog; see
 * analyzer/tlsdec.h). Without a key log every one is no_keys. */
enum az_tls_skip {
	AZ_TLS_SKIP_NO_KEYS = 0,   /* no secret for this session in the key log
	                              (or none given, or no ClientHello seen) */
	AZ_TLS_SKIP_CIPHER,        /* a cipher suite not decrypted here (CBC,
	                              CCM, ...) */
	AZ_TLS_SKIP_HANDSHAKE,     /* TLS 1.3 encrypted handshake whose
	                              secret is not in the key log */
	AZ_TLS_SKIP_AUTH,          /* the AEAD tag did not verify: a wrong key
	                              or a damaged record */
	AZ_TLS_SKIP_INCOMPLETE,    /* not whole in the capture (snaplen, still
	                              being read at its end) */
	AZ_TLS_SKIP_NO_MEMORY,     /* too many connections decrypted at once */
};
#define AZ_TLS_NSKIPS 6

/* One direction of a connection. */
struct az_dir {
	bool isn_known;            /* SYN seen for this direction */
	uint32_t isn;              /* raw ISN (or first seq seen - 1) */
	uint32_t data_end;         /* relative, one past the last data byte */
	bool fin_seen;
	uint32_t fin_seq;          /* relative sequence number of the FIN */
	double fin_time;
	uint64_t fin_packet;
	bool acked_seen;
	uint32_t acked;            /* highest cumulative ACK the peer has sent
	                              for this direction, relative */
	bool rst_seen;
	double rst_time;           /* first RST sent in this direction */
	uint64_t rst_packet;
	uint32_t rst_seq;          /* relative */
	uint32_t rst_count;
	uint64_t packets;
	uint64_t bytes;            /* payload bytes, retransmissions excluded */
	uint64_t retrans_packets;
	uint64_t retrans_bytes;
	uint16_t mss;              /* from the SYN, 0 if none */
	int8_t wscale;             /* -1 if none */
	bool sack_permitted;
	bool timestamps;
	uint32_t http_messages;    /* c2s: request lines; s2c: status lines */
};

#define AZ_MAX_HTTP_RESPONSES 16
struct az_http_response {
	uint32_t seq_start;        /* relative s2c seq of the status line */
	uint32_t seq_end;          /* one past the message end (0 if unknown:
	                              no framing, or message incomplete) */
	uint16_t status;
	bool complete;             /* all of its bytes were seen */
	bool parse_lost;           /* the parse stopped inside it (bytes
	                              missing from the capture, the snaplen
	                              cut a header, not HTTP): !complete then
	                              says nothing of the server */
};

/* One packet of a connection's timeline (for reports and `explain`). */
struct az_tl_pkt {
	double t;                  /* absolute */
	uint64_t index;            /* packet index in the capture */
	uint32_t seq, ack, len;    /* relative seq/ack, payload length (wire) */
	uint32_t win;              /* window, scaled when the scale is known */
	uint8_t dir;               /* enum az_dir_id */
	uint8_t flags;             /* LL_TH_* */
};

struct az_fw2_interval {
	bool present;
	double start, end;         /* end = capture end if censored */
	enum az_fw2_end ending;
};

struct az_conn {
	uint64_t id;               /* 1, 2, ... in order of first packet */
	uint8_t af;                /* 4 or 6 */
	uint8_t client_addr[16], server_addr[16];
	uint16_t client_port, server_port;
	bool role_inferred;        /* no SYN seen: roles guessed from ports */
	bool handshake_seen;       /* SYN, SYN-ACK and ACK all seen */
	bool rtt_known;
	double h_s;                /* capture point -> server -> capture point
	                              (SYN -> SYN-ACK), seconds */
	double h_c;                /* capture point -> client -> capture point
	                              (SYN-ACK -> ACK) */
	double first_time, last_time;
	uint64_t first_packet, last_packet;
	struct az_dir c2s, s2c;
	enum az_initiator initiator;
	enum az_kind kind;
	enum az_state client_end, server_end;

	/* lingering close: after its FIN the server kept ACKing client data
	 * (a RST that ends it later does not undo it) */
	bool lingered;
	double linger_seconds;     /* server FIN -> the end (linger_end's
	                              packet, or the last packet) */
	uint64_t linger_bytes;     /* client payload bytes ACKed after the
	                              server's FIN */
	enum az_linger_end linger_end;

	struct az_fw2_interval server_fw2; /* server in FIN_WAIT_2 */
	struct az_fw2_interval client_fw2; /* client in FIN_WAIT_2 */

	/* HTTP, where payload was captured */
	uint32_t http_requests;
	uint32_t http_responses;
	uint32_t http_unanswered;  /* requests with no status line seen */
	uint8_t n_responses;       /* recorded in responses[] */
	struct az_http_response responses[AZ_MAX_HTTP_RESPONSES];

	int32_t finding;           /* index into az_finding(), or -1: the
	                              server's finding if any, else the
	                              client's */
	int32_t finding_of[2];     /* [enum az_side of the RST sender]: each
	                              side's finding, or -1 */
	bool evicted;              /* ended early by the memory bound: what
	                              came after is not in this record */

	/* the connection in Zeek's conn.log words (zeek.c): its conn_state,
	 * its history, and whether Zeek's originator is our client */
	/* TLS records seen per direction (0 and 0: not TLS, or not from
	 * the first byte), and the version the server's ServerHello chose
	 * (0x0304: 1.3; 0: not seen) */
	uint32_t tls_records_c2s, tls_records_s2c;
	uint16_t tls_version;
	/* with a key log (az_config.tls_keys): records decrypted (both
	 * directions; tls_decrypted when any), and encrypted records not
	 * decrypted, by enum az_tls_skip */
	bool tls_decrypted;
	uint32_t tls_records_decrypted;
	uint32_t tls_not_decrypted[AZ_TLS_NSKIPS];

	enum az_zeek_state zeek_state;
	char zeek_history[AZ_ZEEK_HISTORY_SIZE];
	bool zeek_orig_is_client;

	/* timeline: the first n_head and the last n_tail packets; omitted
	 * packets between them (0 if the whole connection fits). Set only on
	 * retained (flagged) connections; NULL/0 in on_conn callbacks. */
	const struct az_tl_pkt *tl_head;
	uint32_t n_head;
	const struct az_tl_pkt *tl_tail;
	uint32_t n_tail;
	uint64_t tl_omitted;
};

#define AZ_MAX_RISK_PACKETS 16
/* TLS record content types (RFC 8446 5.1) */
enum az_tls_type {
	AZ_TLS_CHANGE_CIPHER_SPEC = 20, AZ_TLS_ALERT = 21, AZ_TLS_HANDSHAKE = 22,
	AZ_TLS_APPLICATION_DATA = 23, AZ_TLS_HEARTBEAT = 24,
};
#define AZ_MAX_TLS_AT_RISK 8
/* Whether a close_notify is among a finding's records at risk. */
enum az_tls_close_notify {
	AZ_TLS_CN_CANNOT_TELL = 0, /* TLS 1.3 (or unknown) without keys */
	AZ_TLS_CN_ALERT_RECORD,    /* an alert record is at risk (TLS 1.2: by
	                              its type; decrypted: a close_notify) */
	AZ_TLS_CN_NONE,
};
#define AZ_MAX_RST_FATES 8
/* One RST of the finding's sender and its fate at the peer. */
struct az_rst_fate {
	uint64_t packet;
	double arrival;            /* estimated time it reached the peer
	                              (absolute; the capture time at the
	                              peer's vantage) */
	uint32_t seq;              /* relative in the sender's direction */
	uint32_t rcv_nxt;          /* the peer's RCV.NXT then (relative, est.) */
	uint32_t peer_acked;       /* the peer's last ACK sent before it came */
	enum az_accept accept;
};

struct az_rst_finding {
	uint64_t conn_id;
	enum az_side sender;       /* who sent the RST */
	uint64_t rst_packet;
	double rst_time;
	uint32_t rst_seq;          /* relative in the sender's direction */
	bool rst_has_ack;
	uint32_t data_end;         /* sender's data_end when the RST was sent */
	uint32_t acked_at_capture; /* peer's ACK for it seen before the RST in
	                              capture order */
	uint32_t bytes_at_risk_at_server; /* sender's view: its data not yet
	                              ACKed as far as it could know at send time
	                              (for a client RST: the client's view) */
	uint32_t bytes_at_risk_at_server_max; /* the most the sender's view can
	                              be: equal to bytes_at_risk_at_server unless
	                              so many ACK advances came in the sender's
	                              round trip before the RST that the analyzer
	                              kept some only as merged runs; then the true
	                              value lies between the two (the finding is
	                              judged on the lower one) */
	uint32_t bytes_at_risk_at_client; /* receiver's view: bytes it had not
	                              ACKed when the RST reached it */
	enum az_basis basis;
	bool seq_evidence;         /* the RST's own seq showed the ACK it
	                              answered (rst_seq < data_end) */
	enum az_cause cause;
	enum az_vantage vantage;
	uint32_t n_risk_packets;
	uint64_t risk_packets[AZ_MAX_RISK_PACKETS]; /* data packets at risk */
	uint32_t response_index;   /* 1-based HTTP response at risk, 0 if none */
	uint16_t response_status;
	uint32_t unanswered_requests;

	/* TLS, when the sender's direction carried TLS records: the version
	 * its ServerHello chose (0x0304: 1.3; 0 unknown), and the records
	 * with bytes at risk (from the lower view of the peer's ACK to
	 * data_end), the first AZ_MAX_TLS_AT_RISK of them by type */
	bool tls;
	uint16_t tls_version;
	uint32_t tls_records_at_risk;
	uint8_t tls_types[AZ_MAX_TLS_AT_RISK];
	/* with a key log: the direction's records were decrypted (then
	 * tls_types are the true content types, TLS 1.3's inner ones), and
	 * how many of the records at risk were encrypted but not decrypted */
	bool tls_decrypted;
	uint32_t tls_not_decrypted_at_risk;
	enum az_tls_close_notify tls_close_notify;

	/* the evidence, when basis is AZ_BASIS_EVIDENCE: the sender's packet
	 * that proves it (its ACK of a peer segment, or the RST itself) and
	 * the peer packet whose ACK field it proves was received */
	uint64_t evidence_packet;
	uint64_t evidence_peer_packet;
	uint32_t evidence_acked;   /* relative: acknowledged as far as proven */

	/* the peer's side (client_impact for a server RST): every RST of the
	 * sender's in the capture, up to AZ_MAX_RST_FATES, with its fate */
	enum az_impact impact;
	bool impact_estimated;     /* false when the capture point is next to
	                              the peer (vantage), true when the peer's
	                              state is inferred with half round trips
	                              or in capture order */
	uint64_t accepted_rst_packet; /* the first RST the peer accepts, 0 if none */
	uint32_t unacked_at_accept; /* sender data the peer had not ACKed then */
	uint32_t n_fates;
	uint32_t rsts_total;       /* the sender's RSTs on this connection */
	struct az_rst_fate fates[AZ_MAX_RST_FATES];
};

struct az_stats {
	uint64_t packets;          /* every frame of the input: handed in with
	                              az_packet() or skipped with
	                              az_skip_frame() */
	uint64_t filtered;         /* skipped: a filter rejected them (not
	                              decoded, in no other count below) */
	uint64_t tcp;              /* decoded TCP segments */
	uint64_t by_result[DEC_NRESULTS]; /* indexed by enum dec_result */
	uint64_t bytes;            /* captured bytes of the frames handed in */
	double first_time, last_time; /* of the frames handed in; 0 if none */
};

struct az_totals {
	uint64_t connections;
	uint64_t by_kind[AZ_NKINDS];
	uint64_t by_initiator[AZ_NINITIATORS];
	uint64_t lingered;
	uint64_t linger_ends[AZ_NLINGER_ENDS];
	uint64_t rst_before_ack;   /* findings, both senders */
	uint64_t rst_before_ack_by_sender[2]; /* [enum az_side] */
	uint64_t by_basis[3];      /* findings by enum az_basis */
	uint64_t by_impact[2][AZ_NIMPACTS]; /* [sender][enum az_impact] */
	uint32_t bytes_at_risk_max[2]; /* [sender]: the largest bytes at risk
	                              of either view (at_server, at_client)
	                              over every finding, kept or not */
	uint64_t role_inferred;
	uint64_t by_zeek_state[AZ_NZEEK_STATES];
	uint64_t retained;         /* flagged connections kept for the report */
	uint64_t not_retained;     /* flagged beyond max_retained */
	/* the memory bound (az_config.max_memory): connections ended early so
	 * that the store stayed under it, oldest activity first, in this
	 * order (see az_new) */
	uint64_t evicted_embryos;  /* SYN-only flows */
	uint64_t grace_cut;        /* finished ones whose grace period was cut
	                              short (a late packet then starts anew) */
	uint64_t evicted;          /* connections in progress, not tracked to
	                              the end (counted in connections) */
	uint64_t evicted_fin_wait_2; /* of those, FIN_WAIT_2 holders (their
	                              interval ends early, as capture_end) */
};

struct az_fw2_point {
	double t;                  /* absolute */
	uint32_t n;                /* concurrent FIN_WAIT_2 sockets from t on */
};

struct az_fw2_summary {
	uint64_t count;            /* sockets that entered FIN_WAIT_2 */
	uint32_t peak;
	double peak_time;
	double p50, p90, max;      /* durations, seconds (censored included at
	                              their observed length) */
	uint64_t endings[AZ_NFW2_ENDS];
	const struct az_fw2_point *series;
	size_t n_series;
	bool series_exact;         /* false if the series was thinned to fit
	                              its cap (then points keep the max) */
};

typedef void (*az_conn_fn)(const struct az_conn *c, void *arg);

/* Where the next record is to be built: memory of the caller's, room for
 * one struct az_conn, that the analyzer fills and then hands to on_conn
 * (the same pointer), and does not touch after that call. It lets a
 * caller that queues records (a writer thread's ring) have each built in
 * its queue slot rather than copied there. */
typedef struct az_conn *(*az_conn_slot_fn)(void *arg);

struct az_config {
	const uint16_t *server_ports; /* ports that name the server when no
	                                 handshake shows roles; may be NULL */
	size_t n_server_ports;
	az_conn_fn on_conn;        /* called once per connection when it is
	                              summarized (finished or at az_finish); may
	                              be NULL. The record is valid only during
	                              the call. */
	az_conn_slot_fn conn_slot; /* with on_conn, may be NULL: where each
	                              record is built (else the analyzer's
	                              own memory) */
	void *arg;
	uint32_t timeline_head;    /* packets kept from the start (0: 100) */
	uint32_t timeline_tail;    /* and from the end (0: 100) */
	size_t max_retained;       /* flagged connections kept (0: 10000) */
	size_t max_series;         /* fin_wait_2 series points per side
	                              (0: 1<<20) */
	size_t max_memory;         /* bytes the connection store may hold
	                              (0: AZ_DEFAULT_MAX_MEMORY; SIZE_MAX: no
	                              bound) */
	const struct tlskeys *tls_keys; /* an NSS key log (analyzer/tlskeys.h)
	                              to decrypt TLS with, or NULL; it must
	                              outlive the analyzer */
};

#define AZ_DEFAULT_MAX_MEMORY ((size_t)256 << 20)

/*
 * Create an analyzer. Returns NULL on allocation failure. cfg may be NULL.
 *
 * The memory bound: the connection store (connections, their extensions,
 * the rings of finished ones, the flow tables, timelines) stays under
 * max_memory. When a new connection would make it grow past the bound,
 * connections are ended early instead, a batch at a time, in this order:
 * SYN-only flows (oldest first); finished connections still in their
 * grace period; connections in progress with nothing unacknowledged and
 * no FIN_WAIT_2 (least recently active first); any other but FIN_WAIT_2
 * holders; FIN_WAIT_2 holders last. Each is counted in az_totals.
 */
struct az *az_new(const struct az_config *cfg);

/*
 * Feed one frame. ts is the capture timestamp in seconds. Frames must come
 * in capture order. Returns the decoder's verdict (also counted in stats).
 * Returns DEC_OK for TCP segments even if the connection table could not
 * grow (then stats.by_result is unchanged and az_dropped() counts it).
 */
enum dec_result az_packet(struct az *az, int dlt, double ts,
                          const uint8_t *bytes, uint32_t caplen,
                          uint32_t wirelen);

/*
 * The same in two steps, so that decoding can run on another thread:
 * az_predecode() decodes a frame and builds its connection key (a pure
 * function of the bytes: any thread, no az); az_packet_pre() then does
 * what az_packet() does with the frame. p->s.payload points into the frame's
 * bytes, which must stay as they are until az_packet_pre() returns.
 * az_packet_pre(az, ts, caplen, p) after az_predecode(dlt, bytes, caplen,
 * wirelen, p) is exactly az_packet(az, dlt, ts, bytes, caplen, wirelen).
 */
struct az_pre {
	uint8_t key[40];           /* the connection key (struct flow_key) */
	uint32_t hash;
	uint8_t r;                 /* enum dec_result */
	bool src_is_lo;
	struct dec_tcp s;          /* r == DEC_OK: the segment */
};
void az_predecode(int dlt, const uint8_t *bytes, uint32_t caplen,
                  uint32_t wirelen, struct az_pre *p);
enum dec_result az_packet_pre(struct az *az, double ts, uint32_t caplen,
                              const struct az_pre *p);

/*
 * A frame of the input that is not analyzed because a filter rejected it
 * (an offline BPF filter applied frame by frame): it takes its place in
 * the packet numbering, so later indexes still count every frame of the
 * file, and is counted in stats.packets and stats.filtered. Nothing else
 * changes (no time, no expiry).
 */
void az_skip_frame(struct az *az);

/* End of input: summarize every open connection (FIN_WAIT_2 still open is
 * censored as capture_end), call on_conn for each. Idempotent. */
void az_finish(struct az *az);

const struct az_stats *az_stats(const struct az *az);
const struct az_totals *az_totals(const struct az *az);
uint64_t az_dropped(const struct az *az); /* segments lost to OOM */
/* Bytes the store holds now, and the most it held; the bound in force
 * (SIZE_MAX: none). */
size_t az_memory(const struct az *az, size_t *peak);
size_t az_memory_limit(const struct az *az);

size_t az_n_findings(const struct az *az);
const struct az_rst_finding *az_finding(const struct az *az, size_t i);

/* Retained (flagged) connections, in id order. */
size_t az_n_retained(const struct az *az);
const struct az_conn *az_retained(const struct az *az, size_t i);
const struct az_conn *az_retained_by_id(const struct az *az, uint64_t id);

/* FIN_WAIT_2 summary for sockets on side `side` (AZ_SERVER: the server
 * closed first). Valid after az_finish(). */
const struct az_fw2_summary *az_fw2(const struct az *az, enum az_side side);

void az_free(struct az *az);

/* Names used verbatim in JSON and docs. */
const char *az_kind_name(enum az_kind k);          /* "graceful", ... */
const char *az_initiator_name(enum az_initiator i);/* "client", ... */
const char *az_state_name(enum az_state s);        /* "FIN_WAIT_2", ... */
const char *az_fw2_end_name(enum az_fw2_end e);    /* "client_fin", ... */
const char *az_cause_name(enum az_cause c);        /* "data_after_fin", ... */
const char *az_vantage_name(enum az_vantage v);    /* "client", ... */
const char *az_basis_name(enum az_basis b);        /* "timing", ... */
const char *az_accept_name(enum az_accept a);      /* "reset", "challenge_ack", "ignored" */
const char *az_impact_name(enum az_impact i);      /* "reset_before_ack", ... */
const char *az_linger_end_name(enum az_linger_end e); /* "client_fin", ... */
const char *az_zeek_state_name(enum az_zeek_state z); /* "SF", "RSTR", ... */

/*
 * RFC 5961 3.2 as Linux applies it (tcp_validate_incoming, tcp_sequence,
 * tcp_reset_check): what a receiver does with a RST of sequence number
 * seq when the next byte it expects is rcv_nxt, its last ACK sent was
 * rcv_wup and its window is rcv_wnd bytes (0: not known, then nothing at
 * or past rcv_wup counts as outside); fin_in: the RST's sender's FIN is
 * in, so rcv_nxt - 1 resets too. Numbers in the sender's sequence space
 * (any base; compared modulo 2^32). The analyzer judges every RST with it
 * (judge.c); `explain` applies it to a timeline.
 */
enum az_accept az_rst_accept(uint32_t seq, uint32_t rcv_nxt, uint32_t rcv_wup,
                             uint32_t rcv_wnd, bool fin_in);
const char *az_tls_type_name(int type);             /* "alert", ... */
const char *az_tls_version_name(uint16_t v);        /* "1.3", ...; NULL if unknown */
const char *az_tls_skip_name(enum az_tls_skip r);   /* "no_keys", "cipher", ... */
const char *az_tls_close_notify_name(enum az_tls_close_notify c); /* "alert_record", ... */
/* flags as tcpdump letters: "S", "S.", "F.", "R", "P.", ... into buf */
const char *az_flags_str(uint8_t flags, char buf[12]);

#endif
