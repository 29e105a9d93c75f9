/*
 * privsep.c - a lab run's analysis and reports in a child without
 * privileges (privsep.h). The parent keeps root for the lab; what parses
 * bytes from outside (the capture: what the server sent) runs in the child
 * after privdrop_apply(). A pipe carries one byte per file the child
 * finished, so the parent renames exactly those into place.
 */
#include "reports/privsep.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/errmsg.h"
#include "reports/cli.h"
#include "reports/textout.h"

int privsep_init(struct privsep *ps, const char *prog, const char *user,
                 char *err, size_t errlen)
{
	memset(ps, 0, sizeof *ps);
	ps->prog = prog;
	ps->done_fd = -1;
	return privdrop_init(&ps->pd, user, err, errlen);
}

int privsep_add(struct privsep *ps, const char *path, size_t *idx, char *err,
                size_t errlen)
{
	struct privsep_file *pf;
	struct stat sb;
	int fd = -1;

	if (ps->n >= PRIVSEP_MAX_FILES) {
		errmsg_set(err, errlen, "%s: too many output files", path);
		return -1;
	}
	pf = &ps->file[ps->n];
	memset(pf, 0, sizeof *pf);
	pf->path = strdup(path);
	if (!pf->path)
		goto oom;
	if (!strcmp(path, "-")) {
		pf->f = stdout;
	} else if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		/* a FIFO, a device: written in place, as report_write does */
		if (!(pf->f = fopen(path, "we"))) {
			errmsg_set(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
	} else {
		size_t n = strlen(path) + 8;
		mode_t um;
		if (!(pf->tmp = malloc(n)))
			goto oom;
		snprintf(pf->tmp, n, "%s.XXXXXX", path);
		fd = mkostemp(pf->tmp, O_CLOEXEC);
		if (fd < 0) {
			errmsg_set(err, errlen, "%s: %s", path, strerror(errno));
			free(pf->tmp);
			pf->tmp = NULL;
			goto fail;
		}
		um = umask(0);
		umask(um);
		if (fchmod(fd, 0666 & ~um) != 0 || !(pf->f = fdopen(fd, "w"))) {
			errmsg_set(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			unlink(pf->tmp);
			free(pf->tmp);
			pf->tmp = NULL;
			goto fail;
		}
	}
	*idx = ps->n++;
	return 0;
oom:
	errmsg_set(err, errlen, "%s: out of memory", path);
fail:
	free(pf->path);
	pf->path = NULL;
	return -1;
}

FILE *privsep_file(struct privsep *ps, size_t idx)
{
	return idx < ps->n ? ps->file[idx].f : NULL;
}

void privsep_done(struct privsep *ps, size_t idx)
{
	unsigned char b = (unsigned char)idx;
	if (idx >= ps->n)
		return;
	ps->file[idx].written = true;
	ps->file[idx].f = NULL;    /* the writer closed it */
	if (ps->done_fd >= 0)
		while (write(ps->done_fd, &b, 1) < 0 && errno == EINTR)
			;
}

/* In the child: never returns. */
static void child(struct privsep *ps, struct run_outcome *o, int capfd, int done_fd,
                  pid_t parent,
                  int (*fn)(struct privsep *, struct run_outcome *, void *), void *arg)
{
	char err[512];
	int rc;

	ps->done_fd = done_fd;
	/* the capture waits on standard input: nothing of the parent's
	 * needs to be opened again once root is gone */
	if (dup2(capfd, STDIN_FILENO) < 0) {
		tout_fprintf(stderr, "%s: analysis: dup2: %s\n", ps->prog, strerror(errno));
		_exit(LL_EXIT_ENV);
	}
	close(capfd);
	o->capture_read = "-";
	if (privdrop_apply(&ps->pd, err, sizeof err) != 0) {
		tout_fprintf(stderr, "%s: %s\n", ps->prog, err);
		_exit(LL_EXIT_ENV);
	}
	/* a parent killed meanwhile cannot rename what this writes: go too
	 * (set after the drop, which clears it) */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != parent)
		_exit(LL_EXIT_ENV);
	if (getenv("LINGERLAB_TEST_STOP_ANALYSIS"))
		raise(SIGSTOP);
	rc = fn(ps, o, arg);
	fflush(NULL);
	_exit(rc & 0xff);
}

int privsep_run(struct privsep *ps, struct run_outcome *o,
                int (*fn)(struct privsep *ps, struct run_outcome *o, void *arg),
                void *arg, char *err, size_t errlen)
{
	char kerr[256];
	int capfd, pfd[2], ws = 0, rc;
	unsigned char b;
	ssize_t got;
	pid_t pid, parent = getpid();

	/* the key log the run wrote, while it may still be read */
	run_load_keys(o, kerr, sizeof kerr);
	capfd = open(o->capture_path, O_RDONLY | O_CLOEXEC);
	if (capfd < 0) {
		errmsg_set(err, errlen, "%s: %s", o->capture_path, strerror(errno));
		return LL_EXIT_ENV;
	}
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		errmsg_set(err, errlen, "analysis: pipe: %s", strerror(errno));
		close(capfd);
		return LL_EXIT_ENV;
	}
	fflush(NULL);   /* nothing buffered is written twice */
	pid = fork();
	if (pid < 0) {
		errmsg_set(err, errlen, "analysis: fork: %s", strerror(errno));
		close(capfd);
		close(pfd[0]);
		close(pfd[1]);
		return LL_EXIT_ENV;
	}
	if (pid == 0) {
		close(pfd[0]);
		child(ps, o, capfd, pfd[1], parent, fn, arg);
	}
	close(capfd);
	close(pfd[1]);
	for (;;) {
		got = read(pfd[0], &b, 1);
		if (got == 1) {
			if (b < ps->n)
				ps->file[b].written = true;
			continue;
		}
		if (got < 0 && errno == EINTR)
			continue;
		break;
	}
	close(pfd[0]);
	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR) {
			errmsg_set(err, errlen, "analysis: waitpid: %s", strerror(errno));
			return LL_EXIT_ENV;
		}
	}
	if (WIFEXITED(ws)) {
		rc = WEXITSTATUS(ws);
	} else {
		errmsg_set(err, errlen, "analysis: the child died by signal %d (%s)",
		           WTERMSIG(ws), strsignal(WTERMSIG(ws)));
		rc = LL_EXIT_ENV;
	}
	/* the parent's copies: nothing was written through them */
	for (size_t i = 0; i < ps->n; i++) {
		struct privsep_file *pf = &ps->file[i];
		if (pf->f && pf->f != stdout)
			fclose(pf->f);
		pf->f = NULL;
		if (!pf->tmp)
			continue;
		if (pf->written && rename(pf->tmp, pf->path) != 0) {
			if (rc != LL_EXIT_ENV)
				errmsg_set(err, errlen, "%s: %s", pf->path, strerror(errno));
			rc = LL_EXIT_ENV;
			pf->written = false;
		}
		if (!pf->written)
			unlink(pf->tmp);
		free(pf->tmp);
		pf->tmp = NULL;
	}
	return rc;
}

void privsep_free(struct privsep *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		struct privsep_file *pf = &ps->file[i];
		if (pf->f && pf->f != stdout)
			fclose(pf->f);
		if (pf->tmp) {
			unlink(pf->tmp);
			free(pf->tmp);
		}
		free(pf->path);
	}
	ps->n = 0;
}
