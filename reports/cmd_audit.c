/* cmd_audit.c - placeholder until the owner of `lingerlab audit` lands it. */
#include <stdio.h>
#include "reports/cli.h"
int cmd_audit(int argc, char **argv)
{
	(void)argc; (void)argv;
	fprintf(stderr, "lingerlab audit: not built yet\n");
	return LL_EXIT_USAGE;
}
