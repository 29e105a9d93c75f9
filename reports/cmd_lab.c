/* cmd_lab.c - placeholder until the owner of `lingerlab lab` lands it. */
#include <stdio.h>
#include "reports/cli.h"
int cmd_lab(int argc, char **argv)
{
	(void)argc; (void)argv;
	fprintf(stderr, "lingerlab lab: not built yet\n");
	return LL_EXIT_USAGE;
}
