/*
 * names.c - the names of the analyzer's enums, used verbatim in JSON and
 * docs (see analyzer.h), and tcpdump's flag letters.
 */
#include "analyzer/analyzer.h"

#include <string.h>

const char *az_kind_name(enum az_kind k)
{
	switch (k) {
	case AZ_KIND_OPEN: return "open";
	case AZ_KIND_GRACEFUL: return "graceful";
	case AZ_KIND_HALF_OPEN: return "half_open";
	case AZ_KIND_FIN_THEN_RST: return "fin_then_rst";
	case AZ_KIND_ABORT: return "abort";
	case AZ_KIND_RESET: return "reset";
	}
	return "unknown";
}

const char *az_initiator_name(enum az_initiator i)
{
	switch (i) {
	case AZ_INIT_NONE: return "none";
	case AZ_INIT_CLIENT: return "client";
	case AZ_INIT_SERVER: return "server";
	case AZ_INIT_SIMULTANEOUS: return "simultaneous";
	}
	return "unknown";
}

const char *az_state_name(enum az_state s)
{
	switch (s) {
	case AZ_ST_UNKNOWN: return "UNKNOWN";
	case AZ_ST_SYN_SENT: return "SYN_SENT";
	case AZ_ST_SYN_RECEIVED: return "SYN_RECEIVED";
	case AZ_ST_ESTABLISHED: return "ESTABLISHED";
	case AZ_ST_FIN_WAIT_1: return "FIN_WAIT_1";
	case AZ_ST_FIN_WAIT_2: return "FIN_WAIT_2";
	case AZ_ST_CLOSING: return "CLOSING";
	case AZ_ST_TIME_WAIT: return "TIME_WAIT";
	case AZ_ST_CLOSE_WAIT: return "CLOSE_WAIT";
	case AZ_ST_LAST_ACK: return "LAST_ACK";
	case AZ_ST_CLOSED: return "CLOSED";
	}
	return "UNKNOWN";
}

const char *az_fw2_end_name(enum az_fw2_end e)
{
	switch (e) {
	case AZ_FW2_CLIENT_FIN: return "client_fin";
	case AZ_FW2_CLIENT_RST: return "client_rst";
	case AZ_FW2_SERVER_RST: return "server_rst";
	case AZ_FW2_CAPTURE_END: return "capture_end";
	}
	return "unknown";
}

const char *az_cause_name(enum az_cause c)
{
	switch (c) {
	case AZ_CAUSE_UNKNOWN: return "unknown";
	case AZ_CAUSE_DATA_AFTER_FIN: return "data_after_fin";
	case AZ_CAUSE_UNREAD_AT_CLOSE: return "unread_at_close";
	case AZ_CAUSE_ABORT: return "abort";
	}
	return "unknown";
}

const char *az_vantage_name(enum az_vantage v)
{
	switch (v) {
	case AZ_VANTAGE_UNKNOWN: return "unknown";
	case AZ_VANTAGE_CLIENT: return "client";
	case AZ_VANTAGE_SERVER: return "server";
	case AZ_VANTAGE_MIDDLE: return "middle";
	}
	return "unknown";
}

const char *az_basis_name(enum az_basis b)
{
	switch (b) {
	case AZ_BASIS_CAPTURE_ORDER: return "capture_order";
	case AZ_BASIS_TIMING: return "timing";
	case AZ_BASIS_EVIDENCE: return "evidence";
	}
	return "unknown";
}

const char *az_flags_str(uint8_t flags, char buf[12])
{
	/* tcpdump's letters and order; "." for ACK */
	static const struct { uint8_t bit; char ch; } tab[] = {
		{ LL_TH_FIN, 'F' }, { LL_TH_SYN, 'S' }, { LL_TH_RST, 'R' },
		{ LL_TH_PSH, 'P' }, { LL_TH_ACK, '.' }, { LL_TH_URG, 'U' },
		{ LL_TH_ECE, 'E' }, { LL_TH_CWR, 'W' },
	};
	size_t i, n = 0;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (flags & tab[i].bit)
			buf[n++] = tab[i].ch;
	if (n == 0) {
		memcpy(buf, "none", 5);
		return buf;
	}
	buf[n] = '\0';
	return buf;
}

const char *az_accept_name(enum az_accept a)
{
	switch (a) {
	case AZ_ACCEPT_RESET: return "reset";
	case AZ_ACCEPT_CHALLENGE_ACK: return "challenge_ack";
	case AZ_ACCEPT_IGNORED: return "ignored";
	}
	return "unknown";
}

const char *az_impact_name(enum az_impact i)
{
	switch (i) {
	case AZ_IMPACT_RESET_BEFORE_ACK: return "reset_before_ack";
	case AZ_IMPACT_RESET_AFTER_ACK: return "reset_after_ack";
	case AZ_IMPACT_NO_RESET: return "no_reset";
	}
	return "unknown";
}

const char *az_linger_end_name(enum az_linger_end e)
{
	switch (e) {
	case AZ_LINGER_CLIENT_FIN: return "client_fin";
	case AZ_LINGER_SERVER_RST: return "server_rst";
	case AZ_LINGER_CLIENT_RST: return "client_rst";
	case AZ_LINGER_CAPTURE_END: return "capture_end";
	}
	return "unknown";
}

const char *az_zeek_state_name(enum az_zeek_state z)
{
	static const char *const names[AZ_NZEEK_STATES] = {
		"S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR",
		"RSTOS0", "RSTRH", "SH", "SHR", "OTH",
	};
	return (unsigned)z < AZ_NZEEK_STATES ? names[z] : "unknown";
}

const char *az_tls_type_name(int type)
{
	switch (type) {
	case AZ_TLS_CHANGE_CIPHER_SPEC: return "change_cipher_spec";
	case AZ_TLS_ALERT: return "alert";
	case AZ_TLS_HANDSHAKE: return "handshake";
	case AZ_TLS_APPLICATION_DATA: return "application_data";
	case AZ_TLS_HEARTBEAT: return "heartbeat";
	}
	return "unknown";
}

const char *az_tls_version_name(uint16_t v)
{
	switch (v) {
	case 0x0304: return "1.3";
	case 0x0303: return "1.2";
	case 0x0302: return "1.1";
	case 0x0301: return "1.0";
	case 0x0300: return "ssl3";
	}
	return NULL;
}
