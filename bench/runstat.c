/*
 * runstat.c - run a command N times and print the figures of the fastest
 * run, for `make bench`:
 *
 *   runstat N CMD [ARG...]   prints "WALL_S CPU_S MAXRSS_KIB"
 *
 * WALL_S is wall-clock seconds, CPU_S user + system seconds of all its
 * threads, MAXRSS_KIB its peak resident set, all from that run. The
 * fastest run is the one least disturbed by whatever else the host does.
 * A launcher of our own because the peak RSS wait4() reports includes the
 * memory of the forked parent before exec: measured from Python it was
 * never below Python's own ~10 MiB. The command's standard output goes to
 * /dev/null; a run that fails stops everything (exit 1).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

int main(int argc, char **argv)
{
	double best_wall = -1, best_cpu = 0;
	long best_rss = 0;
	char *end;
	long n;

	if (argc < 3) {
		fprintf(stderr, "usage: runstat N CMD [ARG...]\n");
		return 2;
	}
	errno = 0;
	n = strtol(argv[1], &end, 10);
	if (errno || *end || n < 1 || n > 1000) {
		fprintf(stderr, "runstat: N must be 1 to 1000, not \"%s\"\n", argv[1]);
		return 2;
	}
	for (long i = 0; i < n; i++) {
		struct rusage ru;
		double t0 = now(), wall;
		int status;
		pid_t pid = fork();

		if (pid < 0) {
			perror("runstat: fork");
			return 1;
		}
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);

			if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
				_exit(127);
			execvp(argv[2], argv + 2);
			fprintf(stderr, "runstat: %s: cannot run\n", argv[2]);
			_exit(127);
		}
		if (wait4(pid, &status, 0, &ru) < 0) {
			perror("runstat: wait4");
			return 1;
		}
		wall = now() - t0;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "runstat: %s failed (status %d)\n", argv[2], status);
			return 1;
		}
		if (best_wall < 0 || wall < best_wall) {
			best_wall = wall;
			best_cpu = tv(ru.ru_utime) + tv(ru.ru_stime);
			best_rss = ru.ru_maxrss;
		}
	}
	printf("%.3f %.3f %ld\n", best_wall, best_cpu, best_rss);
	return 0;
}
