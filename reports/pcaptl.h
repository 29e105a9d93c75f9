/*
 * pcaptl.h - rebuild one connection's record and packet timeline from the
 * capture a report names, for connections the report keeps no record of.
 *
 * A report carries records (with timelines) only for flagged connections;
 * a lingering server or an idle client's FIN_WAIT_2 is worth explaining
 * too. Given the report and a connection id, this reads the capture the
 * report names (lab.capture, else input.source) with the report's BPF
 * filter and server ports, runs the analyzer over it to find connection
 * id's summary (the same record `lingerlab analyze --connections` writes),
 * then reads the capture once more and decodes the packets of that
 * connection into a timeline (the first and last PTL_HEAD_TAIL packets,
 * relative seq/ack as the analyzer makes them). Packet indexes match the
 * report's, because the same frames pass the same filter.
 *
 * Nothing here changes what the analyzer decides; it only asks it again.
 */
#ifndef LL_REPORTS_PCAPTL_H
#define LL_REPORTS_PCAPTL_H

#include <jansson.h>
#include <stddef.h>

#define PTL_HEAD_TAIL 100

/*
 * Returns a new connection record with a "timeline" member (json_decref()
 * it), or NULL with a one-line reason in err: the report names no capture
 * file (live or stdin input), the capture cannot be read, or it holds no
 * connection id ("PATH has no connection ID (it holds N)"). A report is
 * untrusted: the capture it names is read only when it is a regular file
 * ("PATH: not a regular file (a FIFO)"; a FIFO would hang the reader, a
 * device would feed it forever).
 */
json_t *ptl_connection(const json_t *report, long long id, char *err, size_t errlen);

/*
 * Several connections at once, in one analyzer pass: ids[0..n) (each must
 * be in the capture; a missing one fails the call, naming it), or with ids
 * NULL the first max connections of the capture (*total, when not NULL,
 * gets how many the capture holds). Returns a new array of records with
 * timelines in the order asked (json_decref() it), or NULL with err as
 * ptl_connection() words it.
 */
json_t *ptl_connections(const json_t *report, const long long *ids, size_t n,
                        size_t max, size_t *total, char *err, size_t errlen);

#endif
