/*
 * scndirs.c - the scenario files of an audit (contract in scndirs.h).
 */
#include "reports/scndirs.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *base_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Add dir's *.scn to sd (name order, shadowed names left out). what
 * prefixes error messages ("LINGERLAB_SCENARIOS: ") or is "". */
static int add_dir(struct scndirs *sd, const char *dir, const char *what, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **mine = NULL;
	size_t k = 0, first = sd->n;
	int rc = -1;

	if (!d) {
		snprintf(err, errlen, "%s%.900s: %s", what, dir, strerror(errno));
		return -1;
	}
	if (!(mine = calloc(SCNDIRS_MAX, sizeof *mine)))
		goto oom;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name), cap;
		bool seen = false;
		if (l < 5 || strcmp(e->d_name + l - 4, ".scn") || e->d_name[0] == '.')
			continue;
		for (size_t i = 0; i < first && !seen; i++)
			seen = !strcmp(base_of(sd->files[i]), e->d_name);
		if (seen) {
			sd->shadowed++;
			continue;
		}
		if (first + k == SCNDIRS_MAX) {
			snprintf(err, errlen, "%s%.900s: more than %d scenarios in all", what, dir,
			         SCNDIRS_MAX);
			goto out;
		}
		cap = strlen(dir) + l + 2;
		if (!(mine[k] = malloc(cap)))
			goto oom;
		snprintf(mine[k], cap, "%s/%s", dir, e->d_name);
		k++;
	}
	if (k == 0 && !sd->shadowed) {
		snprintf(err, errlen, "%s%.900s: no scenario (*.scn) in it", what, dir);
		goto out;
	}
	qsort(mine, k, sizeof *mine, cmp_str);
	memcpy(sd->files + first, mine, k * sizeof *mine);
	sd->n += k;
	k = 0;          /* handed over */
	size_t used = strlen(sd->from);
	if (used < sizeof sd->from)
		snprintf(sd->from + used, sizeof sd->from - used, "%s%s", used ? ", " : "", dir);
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "%s%.900s: out of memory", what, dir);
out:
	for (size_t i = 0; mine && i < k; i++)
		free(mine[i]);
	free(mine);
	closedir(d);
	return rc;
}

/* The default directory (scndirs.h, 3) into out; -1 with err if none. */
static int default_dir(char *out, size_t len, char *err, size_t errlen)
{
	char exe[PATH_MAX], bindir[PATH_MAX] = "BINDIR";
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash && slash != exe) {
			*slash = '\0';
			snprintf(bindir, sizeof bindir, "%s", exe);
			const char *const rel[] = { "../share/lingerlab/scenarios", "../scenarios" };
			for (size_t i = 0; i < 2; i++) {
				char path[PATH_MAX + 40], real[PATH_MAX];
				snprintf(path, sizeof path, "%s/%s", bindir, rel[i]);
				if (is_dir(path) && realpath(path, real)) {
					/* the build tree's own, from inside it: as short
					 * as the user would write it */
					char here[PATH_MAX];
					bool same = realpath("scenarios", here) && !strcmp(here, real);
					snprintf(out, len, "%s", same ? "scenarios" : real);
					return 0;
				}
			}
		}
	}
	if (is_dir("scenarios")) {
		snprintf(out, len, "scenarios");
		return 0;
	}
	snprintf(err, errlen, "no scenario directory: not %.400s/../share/lingerlab/scenarios, "
	         "%.400s/../scenarios nor ./scenarios (give one with --scenarios DIR or "
	         "LINGERLAB_SCENARIOS)", bindir, bindir);
	return -1;
}

int scndirs_find(struct scndirs *sd, const char *const *dirs, size_t ndirs,
                 char *err, size_t errlen)
{
	const char *env = getenv("LINGERLAB_SCENARIOS");

	memset(sd, 0, sizeof *sd);
	if (!(sd->files = calloc(SCNDIRS_MAX, sizeof *sd->files))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (ndirs) {
		for (size_t i = 0; i < ndirs; i++)
			if (add_dir(sd, dirs[i], "", err, errlen) < 0)
				return -1;
	} else if (env && *env) {
		char *copy = strdup(env), *save = NULL;
		int rc = 0;
		if (!copy) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		for (char *d = strtok_r(copy, ":", &save); d && rc == 0; d = strtok_r(NULL, ":", &save))
			rc = add_dir(sd, d, "LINGERLAB_SCENARIOS: ", err, errlen);
		free(copy);
		if (rc < 0)
			return -1;
		if (sd->n == 0 && !sd->shadowed) {
			snprintf(err, errlen, "LINGERLAB_SCENARIOS: no directory in '%.900s'", env);
			return -1;
		}
	} else {
		char dir[PATH_MAX + 40];
		if (default_dir(dir, sizeof dir, err, errlen) < 0 ||
		    add_dir(sd, dir, "", err, errlen) < 0)
			return -1;
	}
	if (sd->n == 0) {
		snprintf(err, errlen, "%.900s: no scenario (*.scn) in them", sd->from);
		return -1;
	}
	return 0;
}

void scndirs_free(struct scndirs *sd)
{
	for (size_t i = 0; sd->files && i < sd->n; i++)
		free(sd->files[i]);
	free(sd->files);
	sd->files = NULL;
	sd->n = 0;
}
