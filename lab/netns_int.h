/*
 * netns_int.h - what the rooms of the namespace lab share, and nothing a
 * caller of netns.h needs.
 *
 *   netns.c        primitives: environment, names, enter/leave, spawn,
 *                  exec, `ip`, sysctls
 *   netns_setup.c  the lab network: labnet_setup(), labnet_teardown()
 *   netns_clean.c  killing a namespace's processes, removing a namespace,
 *                  and the leftovers of dead runs (labnet_clean_stale())
 *
 * Status values and err as in netns.h.
 */
#ifndef LL_LAB_NETNS_INT_H
#define LL_LAB_NETNS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "lab/netns.h"

#define NETNS_DIR "/run/netns"
/* a buffer for NETNS_DIR "/NAME" (labnet_ns_path() says if one does not fit) */
#define NETNS_PATH_MAX (sizeof NETNS_DIR + LABNET_NAMELEN * 4 + 1)

/* netns.c */

/* NETNS_DIR/ns into buf; false if it does not fit. */
bool labnet_ns_path(const char *ns, char *buf, size_t buflen);
/* Run `ip ARGS...` (NULL-terminated) here. */
int labnet_ip_cmd(char *err, size_t errlen, ...);
/* Write value to a /proc/sys file inside namespace ns. Missing files are
 * fine when optional (IPv6 compiled out). */
int labnet_sysctl_in(const char *ns, const char *path, const char *value, bool optional,
                     char *err, size_t errlen);

/* netns_clean.c */

bool labnet_ns_exists(const char *ns);
/* Remove one namespace by name (killing what runs inside first). */
int labnet_remove_ns(const char *ns, int *killed, char *err, size_t errlen);

#endif
