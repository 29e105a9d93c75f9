/* cmd_explain.c - placeholder until the owner of `lingerlab explain` lands it. */
#include <stdio.h>
#include "reports/cli.h"
int cmd_explain(int argc, char **argv)
{
	(void)argc; (void)argv;
	fprintf(stderr, "lingerlab explain: not built yet\n");
	return LL_EXIT_USAGE;
}
