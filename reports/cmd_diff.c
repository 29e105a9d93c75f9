/* cmd_diff.c - placeholder until the owner of `lingerlab diff` lands it. */
#include <stdio.h>
#include "reports/cli.h"
int cmd_diff(int argc, char **argv)
{
	(void)argc; (void)argv;
	fprintf(stderr, "lingerlab diff: not built yet\n");
	return LL_EXIT_USAGE;
}
