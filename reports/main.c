/*
 * main.c - the lingerlab binary: dispatch to a subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "reports/cli.h"
#include "reports/textout.h"

struct command {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
};

static const struct command commands[] = {
	{ "analyze", cmd_analyze, "read a capture or interface, report how each TCP connection ended" },
	{ "run",     cmd_run,     "run scenario scripts against a target in the namespace lab" },
	{ "audit",   cmd_audit,   "run every shipped scenario against a target; JSON, HTML and a table" },
	{ "explain", cmd_explain, "annotated packet timeline of a report's flagged connections" },
	{ "render",  cmd_render,  "turn a report into one self-contained HTML page" },
	{ "diff",    cmd_diff,    "compare two reports; exit 1 on a regression" },
	{ "lab",     cmd_lab,     "lab housekeeping: `lab clean` removes what killed runs left" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: lingerlab COMMAND [OPTIONS...]\n\n"
	           "lingerlab %s - TCP close-behaviour test lab and packet analyzer.\n\n"
	           "commands:\n", LL_VERSION);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n`lingerlab COMMAND --help` describes a command; man lingerlab(1) has it all.\n"
	           "exit codes: 0 ok, 1 expectation failed or regression, 2 bad usage or input,\n"
	           "3 environment problem (not root, no network namespaces), 4 the lab could not\n"
	           "vouch for its result (leaked RSTs, packets the capture dropped, clean-up failed).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return LL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return LL_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("lingerlab %s\n", LL_VERSION);
		return LL_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	tout_fprintf(stderr, "lingerlab: unknown command '%s' (try lingerlab --help)\n", argv[1]);
	return LL_EXIT_USAGE;
}
