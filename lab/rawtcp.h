/*
 * rawtcp.h - a userspace TCP client that speaks from an address no kernel
 * owns: segments go out through libnet (a raw IPv4 or IPv6 socket: the kernel
 * routes and resolves the neighbour), frames come in through libpcap on the
 * same interface.
 *
 * One client (struct rawtcp) = one libnet context + one pcap handle + many
 * connections, driven by ONE single-threaded event loop (rawtcp_run): poll
 * on pcap's selectable fd, a timer heap for retransmission / delayed ACK /
 * body pacing / TIME_WAIT / runner timers, and a delay queue that emulates
 * latency (there is no netem in the lab): every outbound packet is held
 * rtt/2 before it is injected and every inbound packet rtt/2 before it is
 * processed. The capture point is the interface, i.e. between the emulated
 * delay and the server: in a saved capture the server looks ~0 away and the
 * client ~rtt away (the analyzer sees h_s ~ 0, h_c ~ rtt).
 *
 * Use: enter the lab's client namespace first (the libnet socket and the
 * pcap handle belong to the namespace that is current when rawtcp_open
 * runs), then
 *
 *     struct rawtcp_config cfg;  rawtcp_config_init(&cfg);
 *     cfg.iface = "llc1234"; cfg.local_addr = "10.77.0.3";
 *     cfg.peer_addr = "10.77.0.1"; cfg.rtt_us = 250000;
 *     struct rawtcp *c = rawtcp_open(&cfg, err, sizeof err);
 *     rawtcp_dump_open(c, "run.pcap", err, sizeof err);      // optional
 *     struct rawtcp_conn_opts o; rawtcp_conn_opts_init(&o); o.dport = 80;
 *     struct rawtcp_conn *k = rawtcp_connect(c, &o, err, sizeof err);
 *     rawtcp_send(k, req, len, err, sizeof err);
 *     rawtcp_run(c, rawtcp_now_us() + 5000000, my_stop, arg, err, sizeof err);
 *     while (rawtcp_next_event(c, &ev)) ...;
 *     rawtcp_peek(k, &p) / rawtcp_consume(k, n)   // the runner parses HTTP
 *     rawtcp_free(c);
 *
 * The TCP endpoint: active open only. SYN carries MSS, window scale,
 * SACK-permitted and timestamps (each can be turned off per connection);
 * segmentation to min(peer MSS, our MSS) minus option space and to the
 * peer's advertised window; no Nagle (each send goes out as soon as window
 * allows, so separate rawtcp_send calls normally make separate segments);
 * retransmission on timeout (RFC 6298 RTO from Karn samples: one timed
 * segment at a time, never a retransmitted one; doubling, bounded retries,
 * go-back-N from snd_una); zero-window probes (no data, seq snd_una - 1).
 * Receive: in order only. An out-of-order segment is DROPPED (not kept) and
 * answered with an immediate duplicate ACK: the server retransmits. (The lab
 * wire is a veth: nothing is lost or reordered, so reassembly would be dead
 * code.) No SACK blocks are ever sent, only SACK-permitted is offered.
 * A RST is accepted when its seq lies between the last ACK we sent and the
 * right edge of our window (RFC 793; RFC 5961 challenge ACKs are not
 * modelled). A server kernel RST provoked by one of our segments carries
 * that segment's ACK, which may be older than what we have received by
 * the time the RST is processed: then it is ignored, as by a real client,
 * and only counted (rawtcp_conn_info.rsts_received).
 *
 * Sequence numbers: raw 32-bit on the wire, compared with seq_before/after
 * (analyzer/seq.h). Counts reported to the runner are 64-bit byte counts
 * relative to the ISN (+1 for the SYN), so "byte 0" is the first data byte.
 *
 * Time: every time in this API is microseconds of CLOCK_MONOTONIC
 * (rawtcp_now_us()); deadlines are absolute in that clock. What an
 * inbound segment causes is dated at its scheduled release time (capture
 * time + rtt/2), so loop latency does not stretch the emulated RTT; event
 * times can therefore lag "now" by a little. Measured (bench/rawtcp.sh):
 * SYN-ACK -> ACK in the capture is within ~0.2 ms of the requested RTT for
 * a lone handshake, ~1 ms late (median) for 100 at once.
 *
 * Errors: functions that can fail return NULL / -1 and write a one-line
 * message ("what: detail") into err (errlen bytes, always NUL-terminated
 * when errlen > 0). Nothing in this module prints.
 *
 * Ownership: the client owns every connection; a connection object stays
 * valid (readable with rawtcp_conn_info, rawtcp_peek) after it is CLOSED,
 * until rawtcp_conn_release() or rawtcp_free(). Not thread-safe: use one
 * client from one thread.
 *
 * IPv4 or IPv6: local_addr and peer_addr are of one family, which picks
 * the libnet context (LIBNET_RAW4 or LIBNET_RAW6), the capture filter
 * ("ip6 and tcp ..." for IPv6) and the default MSS (1460 or 1440). IPv6
 * segments carry no extension headers; libnet fills in the TCP checksum
 * over the IPv6 pseudo-header (RFC 8200 8.1).
 */
#ifndef LL_LAB_RAWTCP_H
#define LL_LAB_RAWTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rawtcp;      /* opaque: the client */
struct rawtcp_conn; /* opaque: one connection, owned by its client */

/* ------------------------------------------------------------------ */
/* Client                                                              */

/*
 * Offline mode (tests, replays): iface == NULL. No pcap, no libnet, no
 * privileges: every IP packet the client would inject is handed to
 * out(out_arg, packet, len) at its release time (after the rtt/2 hold),
 * and the test feeds server packets with rawtcp_input_ipv4() or
 * rawtcp_input_ip(). The TCP logic, timers and delay queue are exactly
 * those of live mode.
 */
typedef void (*rawtcp_out_fn)(void *arg, const uint8_t *ip_packet, size_t len);

struct rawtcp_config {
	const char *iface;       /* client-side interface (veth) to capture and
	                            inject on; NULL = offline mode */
	const char *local_addr;  /* address the client speaks from, e.g.
	                            "10.77.0.3"; no kernel may own it */
	const char *peer_addr;   /* the server's address, e.g. "10.77.0.1" */
	uint32_t rtt_us;         /* default emulated RTT for new connections
	                            (0 = none); each direction holds rtt/2 */
	uint16_t local_addr_count; /* speak from local_addr and the next
	                            count - 1 addresses (last 32 bits + 1, + 2...),
	                            each with the whole port range: one address
	                            holds fewer than 64k connections. 0 or 1:
	                            local_addr only; at most 16; a target
	                            (peer_port) takes 1. The lab must route them
	                            all to the client's interface. */
	uint16_t port_min;       /* local ports are handed out round-robin in */
	uint16_t port_max;       /* [port_min, port_max]; default 20000..60999.
	                            A port is not reused before the range wraps */
	uint32_t max_conns;      /* live (not yet CLOSED) connections at most;
	                            default 60000 */
	uint64_t seed;           /* ISNs and first port; 0 = from getrandom() */
	uint32_t pcap_buffer_bytes; /* kernel capture buffer; default 32 MiB */
	uint32_t max_events;     /* events queued at most (older ones are kept,
	                            newer ones dropped and counted);
	                            default 1 Mi */
	rawtcp_out_fn out;       /* offline mode only */
	void *out_arg;
	/* A target outside the lab (run --target), where local_addr is the
	 * host kernel's own: peer_port != 0 narrows the capture and the leak
	 * check to local_addr:[port_min, port_max] <-> peer_addr:peer_port,
	 * so the host's other traffic is neither saved nor counted, and on
	 * loopback (local == peer) the direction is told by the ports. mark
	 * != 0 is set as SO_MARK on the raw socket, so the RST filter
	 * (lab/nftfilter.h) can let the client's own RSTs pass. */
	uint16_t peer_port;
	uint32_t mark;
};

/* Fill cfg with the defaults above; iface/local_addr/peer_addr NULL. */
void rawtcp_config_init(struct rawtcp_config *cfg);

/*
 * Open a client: parse the addresses, open the pcap handle on cfg->iface
 * (TPACKET_V3 blocks with a 1 ms timeout, non-blocking, snaplen 262144 for
 * offloaded super-segments, BPF filter "tcp and (host LOCAL or host PEER)";
 * the time a frame waited in the ring is taken off its rtt/2 hold), and a
 * libnet LIBNET_RAW4 context (an IP_HDRINCL raw socket bound to cfg->iface:
 * the kernel routes and resolves ARP; libnet builds and checksums each
 * segment when it leaves the delay queue), both in the current network
 * namespace. IPv6: filter "ip6 and tcp and (host LOCAL or host PEER)" and
 * LIBNET_RAW6 (an IPPROTO_RAW IPv6 socket, header included; the kernel
 * routes and resolves the neighbour). Needs CAP_NET_RAW unless offline.
 * Returns the client, or NULL with err set, e.g.
 * "rawtcp_open: local_addr: not an IPv4 or IPv6 address: 10.0.0.300",
 * "rawtcp_open: local_addr 10.0.0.3 and peer_addr fd00::1 are not of one family",
 * "rawtcp_open: pcap: <libpcap message>", "rawtcp_open: libnet: <message>".
 * The strings in cfg are copied.
 */
struct rawtcp *rawtcp_open(const struct rawtcp_config *cfg, char *err, size_t errlen);

/* Close the dump, the pcap handle and the libnet context; free every
 * connection. Sends nothing (packets still held in the delay queue are
 * dropped). NULL is allowed. */
void rawtcp_free(struct rawtcp *c);

/* Now, in microseconds of CLOCK_MONOTONIC. */
uint64_t rawtcp_now_us(void);

/*
 * Ask the scheduler to run the calling thread (the one that calls
 * rawtcp_run) ahead of ordinary work: SCHED_FIFO at priority prio (1..99)
 * and its memory locked. On a loaded machine the emulated RTT's tail is
 * the time a released segment waits for a CPU (bench/rawtcp.sh: 50 ms
 * with 100 in flight, p99 53.9 ms under SCHED_OTHER, 50.7 ms under
 * SCHED_FIFO); the kernel's real-time throttling
 * (sched_rt_runtime_us) still leaves the rest of the machine 5%. Needs
 * CAP_SYS_NICE; returns 0, or -1 with err set (nothing changed).
 */
int rawtcp_realtime(int prio, char *err, size_t errlen);

/*
 * Save every frame the capture sees (both directions, server and client,
 * including leaked RSTs) to a pcap file at path, with libpcap's
 * timestamps, until rawtcp_dump_close or rawtcp_free. Call it before the
 * first rawtcp_connect to have the whole conversation. Live mode only.
 * Returns 0, or -1 with err set ("rawtcp_dump_open: <path>: <why>").
 */
int rawtcp_dump_open(struct rawtcp *c, const char *path, char *err, size_t errlen);
/* Flush the dump file to disk (the runner may read it while open).
 * A write that fails, here, while frames are dumped or at
 * rawtcp_dump_close, is kept in rawtcp_stats' dump_errno. */
int rawtcp_dump_flush(struct rawtcp *c, char *err, size_t errlen);
/* Drain frames still queued in the kernel into the dump, then close it.
 * Safe to call when no dump is open. */
void rawtcp_dump_close(struct rawtcp *c);

/* ------------------------------------------------------------------ */
/* Connections                                                         */

enum rawtcp_ack_mode {
	RAWTCP_ACK_NOW = 0,  /* ACK every segment that carries data or FIN */
	RAWTCP_ACK_DELAYED,  /* ACK delay_us after the first unacknowledged
	                        byte arrived (one ACK covers all that came) */
	RAWTCP_ACK_NEVER,    /* never ACK data or FIN (the handshake's ACK is
	                        still sent: it is not a data ACK) */
	RAWTCP_ACK_UPTO,     /* ACK at once, but never beyond upto bytes of
	                        the peer's stream (relative: data bytes, the
	                        FIN counts as one more) */
};

struct rawtcp_ack_policy {
	enum rawtcp_ack_mode mode;
	uint32_t delay_us;   /* RAWTCP_ACK_DELAYED */
	uint64_t upto;       /* RAWTCP_ACK_UPTO */
};

/*
 * Loss and reordering on the client's side of the wire (the scenario
 * language's `drop` and `reorder`, for teaching). Segments are counted per
 * connection and direction from 1, every segment: outbound the SYN, data,
 * pure ACKs (window updates, duplicate ACKs, TIME_WAIT's re-ACKs), FIN, RST
 * and retransmissions, each as it leaves the client (before the rtt/2
 * hold); inbound every segment of the server for this connection (SYN-ACK,
 * data, pure ACKs, FIN, RST, retransmissions) as the client would process
 * it (after the hold). A dropped outbound segment is never injected (the
 * client's TCP believes it sent it: data and FIN are retransmitted on
 * timeout, a pure ACK is not); a dropped inbound one is never processed
 * (not ACKed, not read; the server retransmits). Reorder holds the
 * segment back and lets it go right after the next one of its direction
 * (an outbound one still held when the connection closes goes then).
 * The capture point is between the client and the server, so a dropped
 * outbound segment is not in the capture and a dropped inbound one is.
 */
enum rawtcp_dir { RAWTCP_DIR_IN = 0, RAWTCP_DIR_OUT = 1 };
enum rawtcp_fault_kind { RAWTCP_FAULT_DROP = 1, RAWTCP_FAULT_REORDER };
struct rawtcp_fault {
	uint8_t dir;             /* enum rawtcp_dir */
	uint8_t kind;            /* enum rawtcp_fault_kind */
	bool fin;                /* the first segment of dir carrying a FIN,
	                            whatever its number */
	uint32_t nth;            /* else the nth segment of dir (from 1) */
};
#define RAWTCP_MAX_FAULTS 8

struct rawtcp_conn_opts {
	uint16_t dport;          /* server port (required) */
	int64_t rtt_us;          /* emulated RTT, < 0 = the client's default */
	uint16_t mss;            /* MSS we announce; 0 (the default): 1460
	                            over IPv4, 1440 over IPv6 (a 1500-byte
	                            MTU less the headers), less if the
	                            interface's MTU is smaller (a tunnel, a
	                            VPN): a larger segment could not leave */
	int8_t wscale;           /* window scale we announce, 0..14;
	                            -1 = no window-scale option; default 7 */
	bool sack_permitted;     /* offer SACK-permitted; default true */
	bool timestamps;         /* offer timestamps; default true */
	uint32_t window;         /* most receive window we advertise, bytes
	                            (0 allowed: zero window). The advertised
	                            value is min(window, rcvbuf free space),
	                            rounded down to the scale's granularity;
	                            default 65535 */
	uint32_t rcvbuf_cap;     /* receive buffer cap, bytes (unconsumed data
	                            the runner has not rawtcp_consume()d);
	                            default 1 MiB; allocated lazily */
	uint32_t sndbuf_cap;     /* send buffer cap (unacknowledged + unsent
	                            bytes); rawtcp_send beyond it fails;
	                            default 256 KiB; allocated lazily */
	struct rawtcp_ack_policy ack; /* default RAWTCP_ACK_NOW */
	bool stop_on_peer_fin;   /* when the peer's FIN arrives, stop the body
	                            generator and drop unsent bytes (the
	                            application noticed). Default false: keep
	                            streaming as a client that has not looked
	                            yet (legal TCP: we are in CLOSE_WAIT) */
	bool send_after_rst;     /* after the peer's RST, keep sending the
	                            remaining bytes (ignoring the peer window,
	                            at the body rate, no retransmission) to show
	                            the server answering each with RST. Default
	                            false: a RST ends the connection as in any
	                            TCP. */
	uint8_t max_retries;     /* retransmissions of one segment (SYN
	                            included) before giving up; default 6 */
	uint32_t rto_initial_us; /* default 1 s (RFC 6298) */
	uint32_t rto_min_us;     /* default 200 ms (as Linux) */
	uint32_t time_wait_us;   /* how long TIME_WAIT re-ACKs a repeated FIN
	                            before CLOSED (the real 2*MSL would keep
	                            lab runs waiting); default 1 s */
	void *user;              /* runner's pointer, returned in events */
	struct rawtcp_fault faults[RAWTCP_MAX_FAULTS]; /* default none; each
	                            applies once (see above) */
	uint8_t n_faults;
};

/* Fill o with the defaults above (dport 0: the caller must set it). */
void rawtcp_conn_opts_init(struct rawtcp_conn_opts *o);

/*
 * Open a connection to peer_addr:o->dport from the next free local port:
 * builds the SYN now and holds it rtt/2. Returns the connection, or NULL
 * with err set ("rawtcp_connect: no free local port",
 * "rawtcp_connect: too many connections (max 60000)",
 * "rawtcp_connect: dport: must not be 0", "rawtcp_connect: wscale: 15 is
 * out of range 0..14 or -1", "rawtcp_connect: mss: must be 64..65495").
 * RAWTCP_EV_CONNECTED follows when the SYN-ACK has been processed.
 */
struct rawtcp_conn *rawtcp_connect(struct rawtcp *c, const struct rawtcp_conn_opts *o,
                                   char *err, size_t errlen);

/*
 * Queue len bytes (copied) for sending, after everything queued before;
 * transmits at once what the peer's window allows. Allowed before the
 * handshake completes (sent after it). Returns 0, or -1 with err set:
 * "rawtcp_send: send buffer full (N of M bytes used)" (nothing queued),
 * "rawtcp_send: connection is closed", "rawtcp_send: already shut down",
 * "rawtcp_send: body generator still running".
 */
int rawtcp_send(struct rawtcp_conn *k, const void *data, size_t len,
                char *err, size_t errlen);

/*
 * Start a body generator: total bytes of a fixed printable pattern, written
 * into the send stream (after everything queued so far) in chunks of chunk
 * bytes at rate_bps bytes per second (0 = as fast as the send buffer takes
 * them; chunk 0 = 16 KiB). A chunk that does not fit the send buffer waits,
 * as a blocking write() would. RAWTCP_EV_BODY_DONE when the last byte is
 * in the stream. One generator at a time. Returns 0 or -1 with err set
 * ("rawtcp_send_body: body generator still running", and those of
 * rawtcp_send).
 */
int rawtcp_send_body(struct rawtcp_conn *k, uint64_t total, uint64_t rate_bps,
                     uint32_t chunk, char *err, size_t errlen);

/*
 * Half-close: send FIN after every byte already queued (and after the body
 * generator, if one runs). Receiving goes on. This is both "close after the
 * response" and "half-close" on the wire; "never send FIN" is simply not
 * calling it. Returns 0, or -1 with err set ("rawtcp_shutdown: connection
 * is closed"). A second call is a no-op.
 */
int rawtcp_shutdown(struct rawtcp_conn *k, char *err, size_t errlen);

/*
 * Abortive close: send RST (seq = snd_nxt, held rtt/2 like any packet),
 * drop unsent data, stop timers; the connection is CLOSED at once with
 * reason RAWTCP_CLOSE_ABORTED. No-op on a closed connection.
 */
void rawtcp_abort(struct rawtcp_conn *k);

/*
 * Go silent ("the dial-up user hung up"): from now on this connection
 * injects nothing at all (no ACK, no data, no retransmission, no FIN,
 * no RST); packets already held in the delay queue still go out. Inbound
 * packets are still processed and counted. It becomes CLOSED (reason
 * RAWTCP_CLOSE_SILENT) only on a peer RST or rawtcp_abort/release.
 */
void rawtcp_silence(struct rawtcp_conn *k);

/* Add a fault rule (see struct rawtcp_fault) to a live connection. A rule
 * whose segment number has already gone by never applies. Returns 0, or -1
 * with err set ("rawtcp_add_fault: at most 8 rules per connection"). */
int rawtcp_add_fault(struct rawtcp_conn *k, const struct rawtcp_fault *f,
                     char *err, size_t errlen);

/*
 * Send one RST that does not close this connection (a forged or stray
 * reset, to show what the server's kernel makes of it, RFC 5961 3.2): seq
 * = our next sequence number (snd_max, +1 once our FIN went) + seq_off;
 * with_ack: the ACK flag set and ack = what we would acknowledge now +
 * ack_off. The connection goes on as before (the server's challenge ACK or
 * its silence is processed as usual). Returns 0, or -1 with err set
 * ("rawtcp_send_rst: connection is not established").
 */
int rawtcp_send_rst(struct rawtcp_conn *k, int64_t seq_off, bool with_ack, int64_t ack_off,
                    char *err, size_t errlen);

/* Change the ACK policy from now on. Switching to a policy that allows
 * more ACKs sends the now-allowed ACK at once. */
void rawtcp_set_ack_policy(struct rawtcp_conn *k, const struct rawtcp_ack_policy *p);

/* Change the advertised window cap (bytes, 0 = zero window) from now on.
 * Opening a window that was advertised as zero (or smaller than one MSS)
 * sends a window update at once. */
void rawtcp_set_window(struct rawtcp_conn *k, uint32_t window);

/*
 * Receive side. Bytes arrive in order into the connection's receive buffer;
 * rawtcp_peek returns how many unconsumed bytes there are and points *data
 * at them (contiguous; valid until the next call into the client).
 * rawtcp_consume(k, n) marks the first n of them "delivered to the
 * application" and frees their space (which may open the window).
 * What is received but not consumed when a RST arrives is what a
 * flush-on-RST (BSD-style) client would have lost: see
 * rawtcp_conn_info.rst_lost_on_flush.
 */
size_t rawtcp_peek(const struct rawtcp_conn *k, const uint8_t **data);
void rawtcp_consume(struct rawtcp_conn *k, size_t n);

/*
 * Forget a connection: its events still queued are dropped, its memory is
 * freed and the pointer becomes invalid. A connection that is not CLOSED is
 * aborted first (RST). The local port is not reused before the port range
 * wraps.
 */
void rawtcp_conn_release(struct rawtcp_conn *k);

/* The RST rawtcp_conn_release_noted sent, for reports that must tell a
 * runner's own clean-up RSTs from a client's aborts in the capture. */
struct rawtcp_rst_note {
	bool sent;          /* false: the connection was CLOSED or silenced */
	uint16_t local_port;
	uint32_t seq;       /* raw sequence number of the RST */
	uint64_t out_us;    /* when it leaves the delay queue (rawtcp_now_us
	                       clock): about its capture time */
};

/* rawtcp_conn_release, saying in *note which RST (if any) it sent. */
void rawtcp_conn_release_noted(struct rawtcp_conn *k, struct rawtcp_rst_note *note);

/* RFC 9293 section 3.3.2 names; only active-open states occur. */
enum rawtcp_state {
	RAWTCP_SYN_SENT = 0,
	RAWTCP_ESTABLISHED,
	RAWTCP_FIN_WAIT_1,
	RAWTCP_FIN_WAIT_2,
	RAWTCP_CLOSING,
	RAWTCP_TIME_WAIT,
	RAWTCP_CLOSE_WAIT,
	RAWTCP_LAST_ACK,
	RAWTCP_CLOSED,
};

enum rawtcp_close_reason {
	RAWTCP_CLOSE_NONE = 0,   /* not closed yet */
	RAWTCP_CLOSE_NORMAL,     /* both FINs exchanged and ACKed (after
	                            TIME_WAIT, or LAST_ACK acknowledged) */
	RAWTCP_CLOSE_RESET,      /* the peer sent RST (incl. refused SYN) */
	RAWTCP_CLOSE_ABORTED,    /* we sent RST (rawtcp_abort/release) */
	RAWTCP_CLOSE_TIMEOUT,    /* max_retries retransmissions unanswered */
	RAWTCP_CLOSE_SILENT,     /* silenced and then reset or released */
};

struct rawtcp_conn_info {
	enum rawtcp_state state;
	enum rawtcp_close_reason close_reason;
	uint16_t local_port, peer_port;
	uint32_t rtt_us;            /* emulated RTT of this connection */
	uint32_t isn, peer_isn;     /* raw initial sequence numbers */
	/* what the peer announced in its SYN-ACK */
	uint16_t peer_mss;          /* 536 if it sent none */
	int8_t peer_wscale;         /* -1 if none (then ours is off too) */
	bool peer_sack_permitted, peer_timestamps;
	uint32_t peer_window;       /* last advertised, scaled, bytes */
	uint32_t adv_window;        /* what we advertised last, bytes */
	/* send side, bytes relative to our ISN+1 */
	uint64_t bytes_queued;      /* written by rawtcp_send/body so far */
	uint64_t bytes_sent;        /* highest byte sent + 1 (snd_max) */
	uint64_t bytes_acked;       /* the peer's cumulative ACK (data only) */
	bool fin_sent, fin_acked;
	uint32_t retransmits;       /* segments retransmitted (SYN included) */
	uint32_t srtt_us, rto_us;   /* smoothed RTT measured, current RTO */
	/* receive side, bytes relative to the peer's ISN+1 */
	uint64_t rx_received;       /* in-order data bytes received */
	uint64_t rx_delivered;      /* consumed by the runner (the "app") */
	uint64_t rx_acked;          /* data bytes we have ACKed */
	uint64_t rx_dropped_ooo;    /* out-of-order segments dropped */
	bool peer_fin;              /* the peer's FIN arrived (in order) */
	bool peer_fin_acked;        /* ...and we ACKed it */
	uint64_t peer_fin_at;       /* relative seq of the FIN (= data length) */
	/* reset bookkeeping (the first peer RST; later ones only counted) */
	bool peer_rst;
	uint32_t rsts_received;     /* every RST segment for this connection */
	uint32_t rst_seq;           /* raw seq of the first RST */
	uint64_t rst_rel_seq;       /* its seq relative to the peer's ISN+1 */
	uint64_t rst_rx_received;   /* rx_received when the RST arrived */
	uint64_t rst_rx_delivered;  /* rx_delivered when the RST arrived */
	uint64_t rst_lost_on_flush; /* received but not yet delivered at the
	                               RST: what a client that flushes its
	                               receive buffer on RST would lose */
	uint64_t rst_unacked;       /* rx_received - rx_acked at the RST: data
	                               we had received but not yet ACKed */
	/* times, rawtcp_now_us(); 0 = not yet */
	uint64_t t_connect_us, t_established_us, t_peer_fin_us, t_peer_rst_us,
	         t_closed_us;
	void *user;
	/* faults (struct rawtcp_fault), by enum rawtcp_dir */
	uint32_t segs[2];           /* segments counted */
	uint32_t dropped[2], reordered[2];
};

/* Fill *out with a snapshot of k. */
void rawtcp_conn_info(const struct rawtcp_conn *k, struct rawtcp_conn_info *out);

/* Cheap accessors for predicates. */
enum rawtcp_state rawtcp_conn_state(const struct rawtcp_conn *k);
void *rawtcp_conn_user(const struct rawtcp_conn *k);
uint16_t rawtcp_conn_local_port(const struct rawtcp_conn *k);

/* ------------------------------------------------------------------ */
/* Events and the loop                                                 */

enum rawtcp_event_type {
	RAWTCP_EV_CONNECTED = 1, /* SYN-ACK processed, our ACK queued */
	RAWTCP_EV_DATA,          /* new in-order bytes: ev.bytes of them; peek */
	RAWTCP_EV_PEER_FIN,      /* the peer's FIN arrived in order */
	RAWTCP_EV_PEER_RST,      /* a RST arrived (first one, or every one when
	                            send_after_rst keeps the connection going) */
	RAWTCP_EV_ALL_ACKED,     /* everything queued so far (and our FIN if
	                            sent) is acknowledged */
	RAWTCP_EV_BODY_DONE,     /* the body generator wrote its last byte */
	RAWTCP_EV_CLOSED,        /* state became CLOSED; ev.reason says why */
	RAWTCP_EV_TIMER,         /* a runner timer fired; ev.cookie */
};

struct rawtcp_event {
	enum rawtcp_event_type type;
	struct rawtcp_conn *conn;        /* NULL for RAWTCP_EV_TIMER */
	void *user;                      /* conn's opts.user */
	uint64_t time_us;                /* when it happened */
	uint64_t bytes;                  /* DATA: new bytes; PEER_FIN/PEER_RST:
	                                    rx_received at that moment */
	enum rawtcp_close_reason reason; /* CLOSED */
	uint64_t cookie;                 /* TIMER */
};

/* Pop the oldest queued event into *ev. Returns false if there is none. */
bool rawtcp_next_event(struct rawtcp *c, struct rawtcp_event *ev);

/* Called by rawtcp_run before it waits and after every loop iteration;
 * true stops the run. It may call any function of this API, including
 * rawtcp_next_event, rawtcp_send and rawtcp_connect. */
typedef bool (*rawtcp_stop_fn)(struct rawtcp *c, void *arg);

/*
 * The event loop: read captured frames, release held packets, fire timers,
 * until deadline_us (absolute, rawtcp_now_us clock) or until stop(c, arg)
 * returns true (stop may be NULL). Events accumulate for rawtcp_next_event.
 * Returns 1 if stop said so, 0 at the deadline, -1 with err set on a fatal
 * error: the capture failed ("rawtcp_run: pcap: ..."), poll failed, or
 * 1000 injections in a row failed ("rawtcp_run: inject: <libnet message>").
 * A failed injection is otherwise only counted (stats.inject_errors), as a
 * lost packet would be. Work is done in slices of at most 256 due items
 * between capture reads, so a burst never starves the capture ring.
 */
int rawtcp_run(struct rawtcp *c, uint64_t deadline_us, rawtcp_stop_fn stop, void *arg,
               char *err, size_t errlen);

/*
 * Runner timers: RAWTCP_EV_TIMER with cookie at when_us. Returns a timer id
 * (> 0) for rawtcp_timer_cancel, or 0 with err set on allocation failure.
 */
uint64_t rawtcp_timer_add(struct rawtcp *c, uint64_t when_us, uint64_t cookie,
                          char *err, size_t errlen);
/* Cancel a timer that has not fired; unknown ids are ignored. */
void rawtcp_timer_cancel(struct rawtcp *c, uint64_t id);

/* Offline mode: feed one IPv4 packet as if captured inbound now; it is
 * held rtt/2 and then processed. Returns 0, or -1 with err set when the
 * bytes are not a TCP/IPv4 packet between peer_addr and local_addr
 * ("rawtcp_input_ipv4: TCP data offset too big", ...). */
int rawtcp_input_ipv4(struct rawtcp *c, const uint8_t *pkt, size_t len,
                      char *err, size_t errlen);
/* The same for a packet of either family (IPv4 or IPv6 by its version
 * field, DLT_RAW); messages start "rawtcp_input_ip: ". */
int rawtcp_input_ip(struct rawtcp *c, const uint8_t *pkt, size_t len,
                    char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* Counters                                                            */

struct rawtcp_stats {
	uint64_t frames_seen;      /* frames the capture delivered */
	uint64_t frames_dumped;    /* frames written to the dump */
	uint64_t frames_undecoded; /* not TCP over the client's IP family,
	                              truncated or invalid */
	uint64_t packets_in;       /* inbound segments processed */
	uint64_t packets_out;      /* segments injected */
	uint64_t inject_errors;    /* injections that failed */
	uint64_t no_conn;          /* inbound segments for no live connection */
	uint64_t leaked_rsts;      /* RSTs from local_addr that this client did
	                              not inject: a kernel spoke for our address;
	                              a run with any fails */
	uint64_t client_kernel_rsts; /* RSTs from another client-side address
	                              (e.g. the veth's own .2) to the peer:
	                              a kernel-socket client's, or a leak */
	uint64_t pcap_drops;       /* pcap_stats ps_drop + ps_ifdrop, and the
	                              early receiver's drops */
	bool early_rx;             /* the server's segments reach the TCP through
	                              lab/earlyrx.h (not after the capture
	                              ring's 1 ms block timeout) */
	uint64_t events_dropped;   /* events lost because max_events was hit */
	uint32_t conns_live;       /* connections not yet CLOSED */
	uint32_t conns_peak;       /* highest conns_live */
	uint64_t conns_total;      /* rawtcp_connect calls that succeeded */
	uint32_t delayq_len, delayq_peak; /* packets held for latency */
	int dump_errno;            /* the first failed write of the dump
	                              (ENOSPC on a full disk...), 0 if none:
	                              then the saved capture is incomplete */
};

void rawtcp_stats(struct rawtcp *c, struct rawtcp_stats *out);

/* Names for reports and messages: "ESTABLISHED", "reset", "data", ... */
const char *rawtcp_state_name(enum rawtcp_state s);
const char *rawtcp_close_reason_name(enum rawtcp_close_reason r);
const char *rawtcp_event_name(enum rawtcp_event_type t);

#endif
