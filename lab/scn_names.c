/*
 * scn_names.c - the words of the scenario language and its reports for
 * each value of scenario.h's enums, the comparison an expectation makes,
 * and errno names.
 */
#include "lab/scn_int.h"

#include <string.h>

const char *scn_kstate_name(enum scn_kstate k)
{
	static const char *n[SCN_NKSTATES] = {
		"ESTABLISHED", "SYN_RECV", "FIN_WAIT_1", "FIN_WAIT_2",
		"TIME_WAIT", "CLOSE_WAIT", "LAST_ACK", "CLOSING" };
	return (unsigned)k < SCN_NKSTATES ? n[k] : "?";
}

const char *scn_op_name(enum scn_op op)
{
	static const char *n[] = { "==", "!=", "<", "<=", ">", ">=" };
	return (unsigned)op < 6 ? n[op] : "?";
}

const char *scn_step_name(enum scn_step_kind k)
{
	static const char *n[] = { "connect", "send", "request", "body", "ack",
		"window", "fin", "after", "shutdown", "abort", "wait", "sleep",
		"hold", "repeat", "vanish", "read", "drop", "reorder", "rst" };
	return (unsigned)k < sizeof n / sizeof n[0] ? n[k] : "?";
}

const char *scn_closer_name(int v)
{
	static const char *n[] = { "none", "client", "server", "simultaneous" };
	return v >= 0 && (unsigned)v < sizeof n / sizeof n[0] ? n[v] : "?";
}

const char *scn_kind_name(int v)
{
	static const char *n[] = { "open", "graceful", "half_open", "fin_then_rst",
		"abort", "reset" };
	return v >= 0 && (unsigned)v < sizeof n / sizeof n[0] ? n[v] : "?";
}

const char *scn_end_name(int v)
{
	static const char *n[] = { "UNKNOWN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED",
		"FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "TIME_WAIT", "CLOSE_WAIT",
		"LAST_ACK", "CLOSED" };
	return v >= 0 && (unsigned)v < sizeof n / sizeof n[0] ? n[v] : "?";
}

const char *scn_fw2_ending_name(enum scn_fw2_ending e)
{
	static const char *n[SCN_NFW2_ENDINGS] = { "client_fin", "client_rst",
		"server_rst", "capture_end", "kernel_timeout", "lab_cleanup" };
	return (unsigned)e < SCN_NFW2_ENDINGS ? n[e] : "?";
}

const char *scn_impact_name(enum scn_impact i)
{
	static const char *n[SCN_NIMPACTS] = { "reset_before_ack", "reset_after_ack",
		"no_reset" };
	return (unsigned)i < SCN_NIMPACTS ? n[i] : "?";
}

bool scn_compare(int64_t a, enum scn_op op, int64_t v)
{
	switch (op) {
	case SCN_OP_EQ: return a == v;
	case SCN_OP_NE: return a != v;
	case SCN_OP_LT: return a < v;
	case SCN_OP_LE: return a <= v;
	case SCN_OP_GT: return a > v;
	case SCN_OP_GE: return a >= v;
	}
	return false;
}

const char *scn_read_policy_name(enum scn_read_policy r)
{
	static const char *n[] = { "concurrently", "after send", "never" };
	return (unsigned)r < sizeof n / sizeof n[0] ? n[r] : "?";
}

const char *scn_client_name(enum scn_client c)
{
	static const char *n[] = { "raw", "kernel", "command" };
	return (unsigned)c < sizeof n / sizeof n[0] ? n[c] : "?";
}

/* glibc's own names (strerrorname_np, glibc 2.32), so every errno Linux
 * can return is known without a table of our own. */
int scn_errno_by_name(const char *name, size_t len)
{
	if (len < 2 || len > 32 || name[0] != 'E')
		return 0;
	for (int e = 1; e < 512; e++) {
		const char *n = strerrorname_np(e);
		if (n && strlen(n) == len && memcmp(n, name, len) == 0)
			return e;
	}
	return 0;
}
