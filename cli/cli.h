/*
 * cli.h - what the atomicwrite command's parts share.  The CLI is the only
 * place that prints or exits.
 */
#ifndef AW_CLI_H
#define AW_CLI_H

#include "atomicwrite.h"

/* Exit statuses, as documented in atomicwrite(1). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,      /* failed; FILE untouched, nothing left behind */
	EXIT_USAGE = 2,
	EXIT_UNSYNCED = 3   /* FILE replaced, durability not confirmed */
};

extern const char *cli_prog;

/* "atomicwrite: " + the formatted message, on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the library error e; returns the exit status for result. */
int cli_report(int result, const aw_error *e);
/* Prints a usage error and the hint to try --help; returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "full", "file" or "none"; -1 for anything else. */
int cli_parse_durability(const char *s, aw_durability *out);

int cmd_write(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_symlink(int argc, char **argv);
int cmd_exchange(int argc, char **argv);

#endif
