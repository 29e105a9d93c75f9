/* cmd_run.c - placeholder until the owner of `lingerlab run` lands it. */
#include <stdio.h>
#include "reports/cli.h"
int cmd_run(int argc, char **argv)
{
	(void)argc; (void)argv;
	fprintf(stderr, "lingerlab run: not built yet\n");
	return LL_EXIT_USAGE;
}
