/*
 * cli.h - the subcommands of the lingerlab binary.
 *
 * The CLI layer sits on top: it is the only code that prints to the user
 * and picks exit codes. Each subcommand takes its own argv (argv[0] is the
 * subcommand name) and returns the process exit code:
 *   0 success / all expectations hold, 1 some expectation failed or a
 *   regression was found, 2 bad usage or input, 3 environment problem,
 *   4 the result cannot be vouched for (leaked RSTs, packets the capture
 *   dropped, a lab that could not be removed).
 * `lingerlab CMD --help` prints the command's usage to stdout and returns 0.
 */
#ifndef LL_REPORTS_CLI_H
#define LL_REPORTS_CLI_H

enum { LL_EXIT_OK = 0, LL_EXIT_FAIL = 1, LL_EXIT_USAGE = 2, LL_EXIT_ENV = 3,
       LL_EXIT_UNVOUCHED = 4 };

int cmd_analyze(int argc, char **argv);  /* reports/cmd_analyze.c */
int cmd_run(int argc, char **argv);      /* reports/cmd_run.c */
int cmd_lab(int argc, char **argv);      /* reports/cmd_lab.c */
int cmd_audit(int argc, char **argv);    /* reports/cmd_audit.c */
int cmd_explain(int argc, char **argv);  /* reports/cmd_explain.c */
int cmd_render(int argc, char **argv);   /* reports/cmd_render.c */
int cmd_diff(int argc, char **argv);     /* reports/cmd_diff.c */

#endif
