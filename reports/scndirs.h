/*
 * scndirs.h - where `lingerlab audit` finds its scenarios, the way a user
 * expects:
 *   1. every --scenarios DIR, in the order given (repeatable);
 *   2. else every directory of LINGERLAB_SCENARIOS (colon-separated, empty
 *      entries skipped), in order;
 *   3. else the first that exists of: share/lingerlab/scenarios beside the
 *      running binary (BINDIR/../share/lingerlab/scenarios, what `make
 *      install` makes; the binary is /proc/self/exe, so the working
 *      directory does not matter), BINDIR/../scenarios (the binary of a
 *      build tree, build/lingerlab), and ./scenarios.
 * Each directory's *.scn files (not hidden ones) are taken in name order;
 * a file whose name an earlier directory already gave is shadowed by it,
 * as PATH does with commands. A directory given in 1 or 2 that cannot be
 * read is an error, not skipped.
 *
 * CLI layer helper: nothing is printed; messages go to err.
 */
#ifndef LL_REPORTS_SCNDIRS_H
#define LL_REPORTS_SCNDIRS_H

#include <stddef.h>

/* Most scenario files one audit takes. */
#define SCNDIRS_MAX 256

struct scndirs {
	char **files;       /* paths, DIR/NAME.scn */
	size_t n;
	char from[1024];    /* the directories used, ", "-separated, for
	                       messages ("scenarios", "/usr/share/...") */
	size_t shadowed;    /* files left out because an earlier directory
	                       had one of the same name */
};

/*
 * Fill sd from dirs (ndirs of them; 0: from the environment or the
 * defaults, as above). Returns 0, or -1 with err set, e.g.
 *   "DIR: No such file or directory"
 *   "LINGERLAB_SCENARIOS: DIR: No such file or directory"
 *   "DIR: no scenario (*.scn) in it"
 *   "no scenario directory: not BINDIR/../share/lingerlab/scenarios,
 *    BINDIR/../scenarios nor ./scenarios (give one with --scenarios DIR
 *    or LINGERLAB_SCENARIOS)"
 * scndirs_free() releases sd either way.
 */
int scndirs_find(struct scndirs *sd, const char *const *dirs, size_t ndirs,
                 char *err, size_t errlen);
void scndirs_free(struct scndirs *sd);

#endif
