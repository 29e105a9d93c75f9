/*
 * netns_clean.c - removing namespaces: killing every process inside one
 * (labnet_kill_ns_procs()), deleting one by name, and `lingerlab lab
 * clean` (labnet_clean_stale()): the namespaces, links and target logs of
 * runs whose process is dead.
 */
#include "lab/netns.h"
#include "lab/netns_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "lab/errmsg.h"

bool labnet_ns_exists(const char *ns)
{
	char path[NETNS_PATH_MAX];

	return labnet_ns_path(ns, path, sizeof path) && access(path, F_OK) == 0;
}

/* Remove one namespace by name (killing what runs inside first). */
int labnet_remove_ns(const char *ns, int *killed, char *err, size_t errlen)
{
	int rc = labnet_kill_ns_procs(ns, killed, err, errlen);

	if (!labnet_ns_exists(ns))
		return rc;
	if (labnet_ip_cmd(rc == LABNET_OK ? err : NULL, rc == LABNET_OK ? errlen : 0,
	                  "netns", "del", ns, (char *)NULL) != LABNET_OK)
		rc = LABNET_ERR;
	return rc;
}

/* Namespace identity (device + inode of the nsfs file). */
static int ns_id(const char *path, dev_t *dev, ino_t *ino)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

/* A zombie is dead: it only waits for its parent (often pid 1, which
 * reaps on its own schedule) to collect it. */
static bool is_zombie(pid_t pid)
{
	char p[64], buf[256];
	const char *rp;
	ssize_t n;
	int fd;

	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;   /* gone altogether */
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	rp = strrchr(buf, ')');   /* the state follows the (comm) field */
	return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

/* Wait (bounded) until pid is dead; reap it if it is our child. */
static void await_gone(pid_t pid)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };

	for (int i = 0; i < 200; i++) {   /* at most ~1 s */
		pid_t w = waitpid(pid, NULL, WNOHANG);

		if (w == pid)
			return;
		if (w < 0 && ((kill(pid, 0) != 0 && errno == ESRCH) || is_zombie(pid)))
			return;
		nanosleep(&ts, NULL);
	}
}

int labnet_kill_ns_procs(const char *ns, int *killed, char *err, size_t errlen)
{
	char path[NETNS_PATH_MAX];
	pid_t victims[256];
	int nvictims = 0, count = 0, rc = LABNET_OK;
	pid_t self = getpid();
	dev_t ndev;
	ino_t nino;
	DIR *d;
	struct dirent *de;

	if (killed)
		*killed = 0;
	if (!labnet_ns_path(ns, path, sizeof path)) {
		errmsg_set(err, errlen, "namespace %s: name too long", ns);
		return LABNET_ERR;
	}
	if (ns_id(path, &ndev, &nino) != 0) {
		if (errno == ENOENT)
			return LABNET_OK;
		errmsg_set(err, errlen, "namespace %s: %s", ns, strerror(errno));
		return LABNET_ERR;
	}
	d = opendir("/proc");
	if (!d) {
		errmsg_set(err, errlen, "/proc: %s", strerror(errno));
		return LABNET_ERR;
	}
	while ((de = readdir(d)) != NULL) {
		char p[64];
		char *end;
		long pid;
		dev_t dv;
		ino_t in;

		errno = 0;
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || errno || pid <= 0 || pid == self)
			continue;
		snprintf(p, sizeof p, "/proc/%ld/ns/net", pid);
		if (ns_id(p, &dv, &in) != 0 || dv != ndev || in != nino)
			continue;
		if (kill((pid_t)pid, SIGKILL) == 0) {
			count++;
			if (nvictims < (int)(sizeof victims / sizeof victims[0]))
				victims[nvictims++] = (pid_t)pid;
		} else if (errno != ESRCH && rc == LABNET_OK) {
			errmsg_set(err, errlen, "kill %ld in %s: %s", pid, ns, strerror(errno));
			rc = LABNET_ERR;
		}
	}
	closedir(d);
	for (int i = 0; i < nvictims; i++)
		await_gone(victims[i]);
	if (killed)
		*killed = count;
	return rc;
}

/* Append a formatted line to report (bounded, always NUL-terminated). */
static void report_add(char *report, size_t reportlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report_add(char *report, size_t reportlen, const char *fmt, ...)
{
	size_t off;
	va_list ap;

	if (!report || reportlen == 0)
		return;
	off = strnlen(report, reportlen);
	if (off + 1 >= reportlen)
		return;
	va_start(ap, fmt);
	vsnprintf(report + off, reportlen - off, fmt, ap);
	va_end(ap);
}

static bool pid_alive(pid_t pid)
{
	return !(kill(pid, 0) != 0 && errno == ESRCH);
}

/* Target logs of dead runs (see LABNET_TARGET_LOG_PREFIX); returns how
 * many were removed. A log that cannot be removed is left and not
 * reported: it is a convenience, not part of the lab. */
static int clean_stale_logs(char *report, size_t reportlen)
{
	const char *tmp = getenv("TMPDIR");
	const size_t plen = strlen(LABNET_TARGET_LOG_PREFIX);
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	int count = 0;
	DIR *d;

	snprintf(dir, sizeof dir, "%s", tmp && *tmp ? tmp : "/tmp");
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name, *dash;
		char *end;
		long pid;
		size_t len = strlen(name);

		if (strncmp(name, LABNET_TARGET_LOG_PREFIX, plen) != 0 ||
		    len < 4 || strcmp(name + len - 4, ".log") != 0)
			continue;
		errno = 0;
		pid = strtol(name + plen, &end, 10);
		dash = end;
		if (errno || end == name + plen || *dash != '-' || pid <= 0 ||
		    pid > INT_MAX || pid_alive((pid_t)pid))
			continue;
		/* unlinking the entry just read is sound for readdir */
		if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path ||
		    unlink(path) != 0)
			continue;
		count++;
		report_add(report, reportlen, "removed target log %s\n", path);
	}
	closedir(d);
	return count;
}

int labnet_clean_stale(char *report, size_t reportlen, int *removed,
                       char *err, size_t errlen)
{
	struct if_nameindex *ifs;
	int rc, count = 0;
	char *e = err;
	size_t el = errlen;
	DIR *d;

	if (report && reportlen)
		report[0] = '\0';
	if (removed)
		*removed = 0;
	rc = labnet_check_env(err, errlen);
	if (rc != LABNET_OK)
		return rc;

	d = opendir(NETNS_DIR);
	if (d) {
		struct dirent *de;
		char names[256][LABNET_NAMELEN];
		int n = 0;

		/* Collect first: deleting while reading a directory is unsound. */
		while ((de = readdir(d)) != NULL && n < 256) {
			pid_t pid = labnet_name_pid(de->d_name);

			/* labnet_name_pid accepts only names shorter than
			 * LABNET_NAMELEN, so the copy always fits. */
			if (pid > 0 && !pid_alive(pid)) {
				memcpy(names[n], de->d_name, strlen(de->d_name) + 1);
				n++;
			}
		}
		closedir(d);
		for (int i = 0; i < n; i++) {
			int killed = 0;

			if (labnet_remove_ns(names[i], &killed, e, el) != LABNET_OK) {
				rc = LABNET_ERR;
				e = NULL;
				el = 0;
				continue;
			}
			count++;
			if (killed)
				report_add(report, reportlen, "removed namespace %s (%d process%s killed)\n",
				           names[i], killed, killed == 1 ? "" : "es");
			else
				report_add(report, reportlen, "removed namespace %s\n", names[i]);
		}
	} else if (errno != ENOENT) {
		errmsg_set(err, errlen, NETNS_DIR ": %s", strerror(errno));
		return LABNET_ERR;
	}

	count += clean_stale_logs(report, reportlen);

	/* Links in the host namespace: a lab never puts its veth here, but a
	 * crashed older run or a test might have. */
	ifs = if_nameindex();
	if (ifs) {
		for (struct if_nameindex *i = ifs; i->if_index != 0 && i->if_name; i++) {
			pid_t pid = labnet_name_pid(i->if_name);

			if (pid <= 0 || pid_alive(pid))
				continue;
			/* Deleting one end of a veth removes its peer too: the
			 * peer may already be gone; check before deleting. */
			if (if_nametoindex(i->if_name) == 0)
				continue;
			if (labnet_ip_cmd(e, el, "link", "del", i->if_name, (char *)NULL) != LABNET_OK) {
				rc = LABNET_ERR;
				e = NULL;
				el = 0;
				continue;
			}
			count++;
			report_add(report, reportlen, "removed link %s\n", i->if_name);
		}
		if_freenameindex(ifs);
	}
	if (removed)
		*removed = count;
	return rc;
}
