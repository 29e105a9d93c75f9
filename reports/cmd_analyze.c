/* cmd_analyze.c - placeholder until the owner of `lingerlab analyze` lands it. */
#include <stdio.h>
#include "reports/cli.h"
int cmd_analyze(int argc, char **argv)
{
	(void)argc; (void)argv;
	fprintf(stderr, "lingerlab analyze: not built yet\n");
	return LL_EXIT_USAGE;
}
