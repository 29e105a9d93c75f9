/*
 * clientprog.c - a client program inside the lab (see clientprog.h).
 */
#include "lab/clientprog.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/netns.h"

struct stream {
	int fd;
	char tail[RUN_TAIL];     /* ring of the last bytes */
	size_t tail_len;
};

struct cprog {
	pid_t pid;
	bool reaped, killed;
	int status;
	uint64_t start_us, end_us;
	struct stream s[2];      /* stdout, stderr */
	char *out[2];            /* everything kept, per stream */
	size_t out_len[2];
};

static void keep_tail(struct stream *st, const char *p, size_t n)
{
	size_t cap = sizeof st->tail - 1;
	if (n >= cap) {
		memcpy(st->tail, p + n - cap, cap);
		st->tail_len = cap;
		return;
	}
	if (st->tail_len + n > cap) {
		size_t drop = st->tail_len + n - cap;
		memmove(st->tail, st->tail + drop, st->tail_len - drop);
		st->tail_len -= drop;
	}
	memcpy(st->tail + st->tail_len, p, n);
	st->tail_len += n;
}

struct cprog *cprog_start(const char *ns, const char *command, const char *addr,
                          uint16_t port, const char *url, const char *scenario_dir,
                          uint64_t now_us, char *err, size_t errlen)
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	struct cprog *p = calloc(1, sizeof *p);
	if (!p) {
		snprintf(err, errlen, "client: out of memory");
		return NULL;
	}
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "client: pipe: %s", strerror(errno));
		goto fail;
	}
	char ea[96], ep[48], eu[200], ed[4200];
	snprintf(ea, sizeof ea, "LINGERLAB_ADDR=%s", addr);
	snprintf(ep, sizeof ep, "LINGERLAB_PORT=%u", port);
	snprintf(eu, sizeof eu, "LINGERLAB_URL=%s", url);
	snprintf(ed, sizeof ed, "LINGERLAB_SCENARIO_DIR=%.4096s", scenario_dir);
	char *argv[] = { "env", ea, ep, eu, ed, "/bin/sh", "-c", (char *)command, NULL };
	struct labnet_spawn_opts so = LABNET_SPAWN_OPTS_INIT;
	so.stdout_fd = po[1];
	so.stderr_fd = pe[1];
	so.new_pgrp = true;
	p->pid = labnet_spawn(ns, argv, &so, err, errlen);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	if (p->pid < 0)
		goto fail;
	p->start_us = now_us;
	p->s[0].fd = po[0];
	p->s[1].fd = pe[0];
	for (int i = 0; i < 2; i++)
		fcntl(p->s[i].fd, F_SETFL, fcntl(p->s[i].fd, F_GETFL) | O_NONBLOCK);
	return p;
fail:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	free(p);
	return NULL;
}

static void drain(struct cprog *p)
{
	char buf[8192];
	for (int i = 0; i < 2; i++) {
		struct stream *st = &p->s[i];
		while (st->fd >= 0) {
			ssize_t r = read(st->fd, buf, sizeof buf);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (r <= 0) {
				close(st->fd);
				st->fd = -1;
				break;
			}
			keep_tail(st, buf, (size_t)r);
			size_t room = CPROG_OUTPUT_CAP - p->out_len[0] - p->out_len[1];
			size_t n = (size_t)r < room ? (size_t)r : room;
			if (n) {
				char *nv = realloc(p->out[i], p->out_len[i] + n);
				if (nv) {
					memcpy(nv + p->out_len[i], buf, n);
					p->out[i] = nv;
					p->out_len[i] += n;
				}
			}
		}
	}
}

bool cprog_poll(struct cprog *p, uint64_t now_us)
{
	drain(p);
	if (!p->reaped) {
		pid_t r = waitpid(p->pid, &p->status, WNOHANG);
		if (r == p->pid) {
			p->reaped = true;
			p->end_us = now_us;
		}
	}
	/* a background child of the command may hold the pipes open: the
	 * program's own exit is what counts */
	return p->reaped;
}

void cprog_kill(struct cprog *p)
{
	if (!p->reaped) {
		kill(-p->pid, SIGKILL);
		p->killed = true;
	}
}

void cprog_finish(struct cprog *p, uint64_t now_us, struct run_program *out)
{
	if (!p->reaped) {
		cprog_kill(p);
		while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
			;
		p->reaped = true;
		p->end_us = now_us;
	}
	drain(p);
	/* whatever its children still write is not waited for */
	for (int i = 0; i < 2; i++)
		if (p->s[i].fd >= 0) {
			close(p->s[i].fd);
			p->s[i].fd = -1;
		}
	memset(out, 0, sizeof *out);
	out->ran = true;
	out->timed_out = p->killed;
	out->exited = WIFEXITED(p->status);
	out->exit_status = WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1;
	out->signal = WIFSIGNALED(p->status) ? WTERMSIG(p->status) : 0;
	out->duration = (double)(p->end_us - p->start_us) / 1e6;
	memcpy(out->stdout_tail, p->s[0].tail, p->s[0].tail_len);
	out->stdout_tail[p->s[0].tail_len] = '\0';
	memcpy(out->stderr_tail, p->s[1].tail, p->s[1].tail_len);
	out->stderr_tail[p->s[1].tail_len] = '\0';
	out->output_len = p->out_len[0] + p->out_len[1];
	out->output = malloc(out->output_len + 1);
	if (out->output) {
		if (p->out_len[0])
			memcpy(out->output, p->out[0], p->out_len[0]);
		if (p->out_len[1])
			memcpy(out->output + p->out_len[0], p->out[1], p->out_len[1]);
		out->output[out->output_len] = '\0';
	} else {
		out->output_len = 0;
	}
	free(p->out[0]);
	free(p->out[1]);
	free(p);
}
