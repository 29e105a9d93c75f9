/*
 * clientprog.h - a client program inside the lab (`client command`,
 * `lingerlab run --client 'COMMAND'`): curl, wget, a Python or Node
 * script, run in the client namespace so it speaks from the kernel
 * client's address and its conversation is captured like any other.
 *
 * The command runs as `/bin/sh -c COMMAND` (through /usr/bin/env, which
 * puts LINGERLAB_ADDR, LINGERLAB_PORT, LINGERLAB_URL and
 * LINGERLAB_SCENARIO_DIR, the directory of the scenario file, in its
 * environment), in a process group of its own so a timeout kills all of
 * it, with stdin from /dev/null and stdout and stderr on pipes the runner
 * drains without blocking (the output is kept up to 1 MiB; the last
 * RUN_TAIL bytes of each stream go in the report).
 *
 * Errors: cprog_start returns NULL with "what: detail" in err.
 */
#ifndef LL_LAB_CLIENTPROG_H
#define LL_LAB_CLIENTPROG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab/run.h"

struct cprog;

#define CPROG_OUTPUT_CAP (1u << 20)

/* Start command in namespace ns (NULL: here); now_us: CLOCK_MONOTONIC. */
struct cprog *cprog_start(const char *ns, const char *command, const char *addr,
                          uint16_t port, const char *url, const char *scenario_dir,
                          uint64_t now_us, char *err, size_t errlen);

/* Drain its output and reap it if it exited. True once it has exited and
 * both pipes reached end-of-file. */
bool cprog_poll(struct cprog *p, uint64_t now_us);

/* Kill its process group (the scenario's timeout). */
void cprog_kill(struct cprog *p);

/* Wait for it (after cprog_kill if still running), fill out, free p.
 * out->output is then owned by the caller. */
void cprog_finish(struct cprog *p, uint64_t now_us, struct run_program *out);

#endif
