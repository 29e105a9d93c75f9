/* cmd_render.c - placeholder until the owner of `lingerlab render` lands it. */
#include <stdio.h>
#include "reports/cli.h"
int cmd_render(int argc, char **argv)
{
	(void)argc; (void)argv;
	fprintf(stderr, "lingerlab render: not built yet\n");
	return LL_EXIT_USAGE;
}
