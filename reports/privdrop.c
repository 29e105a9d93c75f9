/*
 * privdrop.c - root given up after the capture is open (privdrop.h).
 *
 * Plain system calls, no libcap: the whole job is a handful of prctl()s,
 * setgroups/setresgid/setresuid and one capset() to empty sets, each
 * checked against its documented failure value. The order matters:
 *   1. PR_SET_NO_NEW_PRIVS: no execve() can raise privileges again;
 *   2. the bounding set, while we still hold CAP_SETPCAP (root), and the
 *      ambient set;
 *   3. groups before gid before uid: once the uid is gone, setgroups()
 *      and setgid() are no longer allowed;
 *   4. capset() to all-zero: a change of all three uids from 0 already
 *      clears the permitted and effective sets (capabilities(7),
 *      "Effect of user ID changes on capabilities"), and this also
 *      empties the inheritable set and covers a non-root process that
 *      holds file capabilities;
 *   5. verify, rather than trust, every step.
 */
#include "reports/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lab/errmsg.h"

static bool started_as_root(void)
{
	return getuid() == 0 || geteuid() == 0;
}

int privdrop_init(struct privdrop *pd, const char *user, char *err, size_t errlen)
{
	struct passwd *pw;

	memset(pd, 0, sizeof *pd);
	if (!user)
		user = PRIVDROP_DEFAULT_USER;
	snprintf(pd->user, sizeof pd->user, "%s", user);
	if (!started_as_root())
		return 0;
	if (strcmp(user, "root") == 0) {
		pd->keep_root = true;
		return 0;
	}
	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		if (errno && errno != ENOENT && errno != ESRCH)
			errmsg_set(err, errlen, "-Z: user '%s': %s", user, strerror(errno));
		else
			errmsg_set(err, errlen, "-Z: no such user '%s'", user);
		return -1;
	}
	pd->uid = pw->pw_uid;
	pd->gid = pw->pw_gid;
	/* a user whose uid is 0 under another name is still root */
	if (pd->uid == 0) {
		pd->keep_root = true;
		return 0;
	}
	pd->change_user = true;
	return 0;
}

bool privdrop_changes_user(const struct privdrop *pd)
{
	return pd->change_user;
}

static int capset_zero(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof data);
	return syscall(SYS_capset, &hdr, data) == 0 ? 0 : -1;
}

/* 1 if any capability is effective or permitted, 0 if none, -1 on error. */
static int caps_held(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof data);
	if (syscall(SYS_capget, &hdr, data) != 0)
		return -1;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted)
			return 1;
	return 0;
}

/* Every capability out of the bounding set: PR_CAPBSET_READ fails with
 * EINVAL past the last one the kernel knows. */
static int drop_bounding(char *err, size_t errlen)
{
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
			errmsg_set(err, errlen, "drop privileges: bounding set, capability %d: %s",
			           cap, strerror(errno));
			return -1;
		}
	return 0;
}

static int verify(const struct privdrop *pd, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[2];
	int held;

	if (pd->change_user) {
		if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0) {
			errmsg_set(err, errlen, "drop privileges: getresuid: %s", strerror(errno));
			return -1;
		}
		if (ru != pd->uid || eu != pd->uid || su != pd->uid ||
		    rg != pd->gid || eg != pd->gid || sg != pd->gid) {
			errmsg_set(err, errlen, "drop privileges: still uid %u/%u/%u gid %u/%u/%u, "
			           "expected %u:%u", (unsigned)ru, (unsigned)eu, (unsigned)su,
			           (unsigned)rg, (unsigned)eg, (unsigned)sg,
			           (unsigned)pd->uid, (unsigned)pd->gid);
			return -1;
		}
		int ng = getgroups(2, groups);
		if (ng < 0 || ng > 1 || (ng == 1 && groups[0] != pd->gid)) {
			errmsg_set(err, errlen, "drop privileges: supplementary groups remain");
			return -1;
		}
		/* the proof: root cannot be had back */
		if (setuid(0) == 0 || seteuid(0) == 0) {
			errmsg_set(err, errlen, "drop privileges: setuid(0) still succeeds");
			return -1;
		}
	}
	held = caps_held();
	if (held != 0) {
		errmsg_set(err, errlen, "drop privileges: %s", held < 0 ? strerror(errno)
		           : "capabilities remain in the effective or permitted set");
		return -1;
	}
	return 0;
}

int privdrop_apply(const struct privdrop *pd, char *err, size_t errlen)
{
	if (pd->keep_root)
		return 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		errmsg_set(err, errlen, "drop privileges: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	if (pd->change_user && drop_bounding(err, errlen) != 0)
		return -1;
	/* EINVAL: a kernel without ambient capabilities (before 4.3) has none */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
		errmsg_set(err, errlen, "drop privileges: ambient set: %s", strerror(errno));
		return -1;
	}
	if (pd->change_user) {
		if (setgroups(1, &pd->gid) != 0) {
			errmsg_set(err, errlen, "drop privileges: setgroups(%u): %s",
			           (unsigned)pd->gid, strerror(errno));
			return -1;
		}
		if (setresgid(pd->gid, pd->gid, pd->gid) != 0) {
			errmsg_set(err, errlen, "drop privileges: setgid(%u): %s",
			           (unsigned)pd->gid, strerror(errno));
			return -1;
		}
		if (setresuid(pd->uid, pd->uid, pd->uid) != 0) {
			errmsg_set(err, errlen, "drop privileges: setuid(%u): %s",
			           (unsigned)pd->uid, strerror(errno));
			return -1;
		}
	}
	if (capset_zero() != 0) {
		errmsg_set(err, errlen, "drop privileges: capset: %s", strerror(errno));
		return -1;
	}
	return verify(pd, err, errlen);
}
