/*
 * runstat.c - run commands N times, taking turns, and print the figures of
 * each one's fastest run, for `make bench`:
 *
 *   runstat N CMD [ARG...] [-- CMD [ARG...]]...
 *
 * prints one line per command: "WALL_S CPU_S MAXRSS_KIB": wall-clock
 * seconds, user + system seconds of all its threads and its peak resident
 * set, all from its fastest run. Taking turns (a b a b ...) gives every
 * command the same share of whatever else the host does; the fastest run
 * is the one least disturbed. A launcher of our own because the peak RSS
 * wait4() reports includes the memory of the forked parent before exec:
 * measured from Python it was never below Python's own ~10 MiB. Standard
 * output of the commands goes to /dev/null; a run that fails stops
 * everything (exit 1).
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS 8

struct best {
	char **argv;
	double wall, cpu;
	long rss;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double tv(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec * 1e-6;
}

/* Run b->argv once; keep its figures if it was the fastest yet. */
static int run_once(struct best *b)
{
	struct rusage ru;
	double t0 = now(), wall;
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		perror("runstat: fork");
		return -1;
	}
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
			_exit(127);
		execvp(b->argv[0], b->argv);
		fprintf(stderr, "runstat: %s: cannot run\n", b->argv[0]);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("runstat: wait4");
		return -1;
	}
	wall = now() - t0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "runstat: %s failed (status %d)\n", b->argv[0], status);
		return -1;
	}
	if (b->wall < 0 || wall < b->wall) {
		b->wall = wall;
		b->cpu = tv(ru.ru_utime) + tv(ru.ru_stime);
		b->rss = ru.ru_maxrss;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct best cmds[MAX_CMDS];
	size_t n_cmds = 0;
	char *end;
	long n;
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: runstat N CMD [ARG...] [-- CMD [ARG...]]...\n");
		return 2;
	}
	errno = 0;
	n = strtol(argv[1], &end, 10);
	if (errno || *end || n < 1 || n > 1000) {
		fprintf(stderr, "runstat: N must be 1 to 1000, not \"%s\"\n", argv[1]);
		return 2;
	}
	/* split argv[2..] at "--" in place: each command ends in NULL */
	bool starts = true;
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			argv[i] = NULL;
			starts = true;
			continue;
		}
		if (starts) {
			if (n_cmds == MAX_CMDS) {
				fprintf(stderr, "runstat: at most %d commands\n", MAX_CMDS);
				return 2;
			}
			cmds[n_cmds++] = (struct best){ .argv = argv + i, .wall = -1 };
			starts = false;
		}
	}
	if (n_cmds == 0) {
		fprintf(stderr, "runstat: no command\n");
		return 2;
	}
	for (long r = 0; r < n; r++)
		for (size_t k = 0; k < n_cmds; k++)
			if (run_once(&cmds[k]) != 0)
				return 1;
	for (size_t k = 0; k < n_cmds; k++)
		printf("%.3f %.3f %ld\n", cmds[k].wall, cmds[k].cpu, cmds[k].rss);
	return 0;
}
