/* SPDX-License-Identifier: MIT */
/*
 * fuzz_stubs.h - forced into the CLI's sources when they are built for the
 * fuzzer (-include): no input may make the fuzzer run a shell command, an
 * editor or a FILE -- COMMAND, so the execs the CLI would do end the child
 * at once.
 */
#include <stdarg.h>
#include <unistd.h>
#define execl(...) (_exit(0), -1)
#define execvp(...) (_exit(0), -1)  /* FILE -- COMMAND */
