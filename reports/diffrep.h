/*
 * diffrep.h - compare two lingerlab reports (`lingerlab diff`) for
 * regression testing of server builds.
 *
 * Two lab reports (`run`, `audit`) are compared scenario by scenario, and
 * must cover the same scenario names; two analyze reports are compared on
 * their whole-capture figures; a lab report and an analyze report are not
 * comparable. Each compared figure becomes one item: its value in BASE and
 * in NEW, whether it got better or worse, and whether "worse" goes beyond
 * the figure's tolerance (a regression).
 *
 * Figures (the tolerance keys), per scope (a scenario, or "report" for the
 * whole-report figures):
 *   rst_before_ack (and any other finding type, by its name), bytes_at_risk,
 *   client_impact (the worst grade of the server's RSTs at the client:
 *   no_reset, then reset_after_ack, then reset_before_ack; judged only
 *   between two scopes that both have server findings: from or to "none",
 *   no server finding, it is shown as changed, since a finding that comes
 *   or goes is rst_before_ack's figure),
 *   expectations (expectations that held in BASE and fail in NEW),
 *   reset_seen, responses_complete, lingered, linger_seconds,
 *   fin_wait_2_count, fin_wait_2_peak, fin_wait_2_p50, fin_wait_2_p90,
 *   fin_wait_2_max, kernel_fin_wait_2_peak, leaked_rst.
 * A tolerance is the most a figure may get worse and still pass: an absolute
 * amount ("2", "0.5"), a share of the BASE value ("10%"), or "inf" (shown,
 * never a regression); for client_impact the amount counts grade steps.
 * A VALUE may also give both ("0.1,5%": the larger of the two), and an
 * amount of seconds may be written in milliseconds ("100ms").
 * Defaults: 0 for findings, client_impact, expectations, reset_seen,
 * responses_complete and leaked_rst; 10% of BASE for bytes at risk (a
 * response's length can move by a few bytes between runs of one build:
 * request ids, cookies, an address in an error page, as the reference
 * target's 404 had one and four audits under close gave 413 and 414 bytes
 * at risk; from 0 any amount is a regression); the larger of 1 and 10%
 * for the FIN_WAIT_2 peaks; "inf" for lingered, lingering time,
 * the FIN_WAIT_2 count and durations (lingering close trades FIN_WAIT_2 time
 * for safety, so those change by design when a server starts lingering).
 *
 * Noise: the timing figures (linger_seconds, fin_wait_2_p50, _p90, _max:
 * the figures in seconds) move a little from run to run of the same build
 * (timers, scheduling, the lab's 50 ms kernel sampling). A timing
 * difference within the noise band is marked `noise`: it is neither
 * better nor worse, and the text output lists it only when asked. The band
 * is the tolerance key "noise" (not a figure): default the larger of 0.1 s
 * and 5% of BASE (three audits of the reference target under linger on a
 * 2-core VM differed by at most 30 ms, 0.8%, on FIN_WAIT_2 times of 3.7 s);
 * "noise=0" lists every difference. A difference a gate of the figure's
 * own calls a regression is a regression, never noise.
 *
 * Nothing here prints; the CLI formats the result.
 */
#ifndef LL_REPORTS_DIFFREP_H
#define LL_REPORTS_DIFFREP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct dr_tol {
	double abs;         /* allowed absolute worsening */
	double pct;         /* allowed worsening as a percentage of BASE */
	bool off;           /* "inf": never a regression */
};

/* A --tolerance KEY=VALUE given on the command line. */
struct dr_tol_arg {
	char key[40];
	struct dr_tol tol;
};

enum dr_change { DR_SAME = 0, DR_BETTER, DR_WORSE, DR_CHANGED };

struct dr_item {
	char scope[128];    /* scenario name, or "report" */
	char metric[40];    /* tolerance key */
	char text[200];     /* expectation text, else "" */
	bool has_base, has_new;
	double base, new_;  /* for expectations: 1 held, 0 failed; for
	                       client_impact the grade's rank (0 no_reset or
	                       none, 1 reset_after_ack, 2 reset_before_ack) */
	char base_word[24], new_word[24]; /* client_impact: the grade's name
	                       ("none": no server finding), else "" */
	bool boolean;       /* reset_seen, expectations: yes/no values */
	enum dr_change change;
	bool regression;    /* worse beyond tolerance */
	bool noise;         /* a timing difference within the noise band:
	                       counted as neither better nor worse */
	struct dr_tol tol;
	const char *unit;   /* "", "bytes", "s", "sockets" */
};

struct dr_result {
	struct dr_item *items;
	size_t n, cap;
	size_t regressions, better, worse, noise;
	struct dr_tol noise_band;   /* the band the comparison used */
	bool lab;           /* compared scenario by scenario */
};

/*
 * Parse "KEY=VALUE" into t. Returns 0, or -1 with the reason in err
 * ("unknown tolerance key 'x' (known: ...)", "tolerance 'k': expected a
 * number, N%, or inf, found 'v'").
 */
int dr_parse_tol(const char *arg, struct dr_tol_arg *t, char *err, size_t errlen);

/*
 * Compare base with cand (reports checked by rf_load()); base_name and
 * cand_name name them in messages. tols override the defaults. Returns 0
 * and fills out (dr_free() it), or -1 with the reason the reports cannot be
 * compared in err, e.g. "BASE.json and NEW.json cover different scenarios:
 * only in BASE.json: a; only in NEW.json: b".
 */
int dr_compare(const json_t *base, const json_t *cand, const char *base_name,
               const char *cand_name, const struct dr_tol_arg *tols, size_t ntols,
               struct dr_result *out, char *err, size_t errlen);
void dr_free(struct dr_result *r);

/* "better", "worse", "same", "changed". */
const char *dr_change_name(enum dr_change c);

/* The known tolerance keys, comma-separated, for help texts ("noise"
 * included). */
const char *dr_known_keys(void);

#endif
