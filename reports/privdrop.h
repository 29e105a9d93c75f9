/*
 * privdrop.h - give up root once the capture is open, as tcpdump's
 * droproot() and OpenBSD's privsep do: the code that decodes packets from
 * the wire runs as an unprivileged user with no capability at all.
 *
 * Two steps, so that a mistake in the user name is found before anything
 * is opened and the drop itself comes after everything that needs root:
 *
 *   struct privdrop pd;
 *   privdrop_init(&pd, opt_user, err, sizeof err);   // -Z USER, or NULL
 *   ... pcap_activate, BPF filter, output files ...
 *   privdrop_apply(&pd, err, sizeof err);
 *
 * What is dropped (privdrop_apply):
 *   - started as root (real or effective uid 0) with a user other than
 *     root: every capability in the bounding and ambient sets, then the
 *     supplementary groups (only the user's primary group is kept), the
 *     gid, the uid (real, effective and saved), and last whatever is left
 *     in the permitted, effective and inheritable sets;
 *   - not root: no change of user (there is none to make), but any
 *     capability the process holds (file capabilities, an ambient set) is
 *     dropped all the same;
 *   - user "root" (-Z root): nothing; the process keeps root.
 * In every case but the last, PR_SET_NO_NEW_PRIVS is set first, so no
 * execve() can give anything back, and the result is verified: uid/gid
 * (real, effective, saved) are the user's, setuid(0) fails, and the
 * effective and permitted capability sets are empty.
 *
 * Errors: -1 with "what: detail" in err (errlen bytes, always terminated).
 */
#ifndef LL_REPORTS_PRIVDROP_H
#define LL_REPORTS_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PRIVDROP_DEFAULT_USER "nobody"

struct privdrop {
	bool change_user;          /* started as root, user is not root */
	bool keep_root;            /* -Z root: nothing is dropped */
	uid_t uid;                 /* the user's (when change_user) */
	gid_t gid;
	char user[64];
};

/*
 * Resolve user (NULL: PRIVDROP_DEFAULT_USER) with getpwnam() while the
 * user database can still be read. Returns 0, or -1 with err set:
 * "-Z: no such user 'x'". Not root: the user is not looked up (there is
 * no switch to make) and 0 is returned.
 */
int privdrop_init(struct privdrop *pd, const char *user, char *err, size_t errlen);

/* Whether privdrop_apply() will change the user: files it must still be
 * able to write are to be opened before it. */
bool privdrop_changes_user(const struct privdrop *pd);

/*
 * Drop as described above. Returns 0, or -1 with err set ("drop
 * privileges: setuid(65534): Operation not permitted"); after a failure
 * the process may be half-dropped and must not go on.
 */
int privdrop_apply(const struct privdrop *pd, char *err, size_t errlen);

#endif
