/* SPDX-License-Identifier: MIT */
/*
 * cli.h - what the atomicwrite command's parts share.  The CLI is the only
 * place that prints or exits.
 */
#ifndef AW_CLI_H
#define AW_CLI_H

#include "atomicwrite.h"

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

/* Exit statuses, as documented in atomicwrite(1). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,      /* failed; FILE untouched, nothing left behind */
	EXIT_USAGE = 2,
	EXIT_UNSYNCED = 3,  /* FILE replaced, durability not confirmed */
	EXIT_CHANGED = 4    /* --if-unchanged: FILE changed since it was read;
	                     * untouched, nothing left: read again and retry */
};

/* ---- report.c: messages, and the parsing several subcommands share */

extern const char *cli_prog;
/* Standard input was closed when we started (it is /dev/null now): the
 * commands that would read it refuse rather than read it as empty. */
extern bool cli_stdin_closed;

/* "atomicwrite: " + the formatted message, on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the library error e; returns the exit status for result. */
int cli_report(int result, const aw_error *e);
/* cli_report() for a begin or commit made with these aw_options flags
 * (AW_IF_UNCHANGED: exit 4 when the file changed). */
int cli_report_flags(int result, const aw_error *e, unsigned flags);
/* Prints a usage error and the hint to try --help; returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A getopt_long() error c (with opterr 0: getopt would name the
 * subcommand, not the program) as a usage error naming the program and
 * cmd.  Returns EXIT_USAGE. */
int cli_bad_option(const char *cmd, char **argv, int c);
/* 0 if exactly n operands start at argv[first], else the usage error
 * (names: the operands, as the help spells them). */
int cli_operands(int argc, char **argv, int first, int n, const char *cmd,
                 const char *names);
/* The whole front of a subcommand that takes only operands: -h/--help
 * (printing "Usage: ... names" and help), --wait (not for exchange,
 * which takes no lock), "--", unknown options refused, the operand
 * count n.  Returns -1 to go on (operands start at argv[*first]), or the
 * exit status. */
int cli_simple_args(int argc, char **argv, const char *cmd, const char *names,
                    int n, const char *help, int *first);
/* --backup's optional argument arg (NULL: "~") into *out: 0, or
 * EXIT_USAGE with the usage error printed (naming the subcommand cmd, if
 * not NULL) for an empty suffix or one with a slash. */
int cli_parse_backup(const char *cmd, const char *arg, const char **out);
/* "full", "file" or "none"; -1 for anything else. */
int cli_parse_durability(const char *s, aw_durability *out);
/* open(path, O_RDONLY | O_CLOEXEC) with EINTR retried (a FIFO or a
 * network filesystem can interrupt an open). */
int cli_open_read(const char *path);

/* ---- help.c: the global --help and --version (on standard output) */

void cli_help(void);
void cli_version(void);

/* ---- spawn.c: running another program */

/* How cli_spawn() sets the child up before the exec.  Descriptors of -1
 * are left as the child inherits them; give pipes O_CLOEXEC, so that only
 * the copies made here reach the program. */
struct cli_child {
	int out;                  /* becomes its standard output */
	int err;                  /* becomes its standard error */
	void (*setup)(void *ctx); /* run in the child last (signals, say) */
	void *ctx;
	bool quiet;               /* a failed exec: exit status 127 and no
	                           * message (for /bin/sh); else the shell's
	                           * message and status, 127 or 126 */
};
/* Flushes our output, forks, and executes file (through PATH if it has no
 * slash) with argv in the child, set up as c says (NULL: as inherited).
 * Returns the child's pid (reap it with cli_wait()), or -1 with errno set
 * if there is no child. */
pid_t cli_spawn(const char *file, char *const argv[], const struct cli_child *c);
/* fork(); the retry is for EINTR injected by tests, which Linux's fork
 * never returns. */
pid_t cli_fork(void);
/* waitpid(pid, status, 0) with EINTR retried: 0, or -1 with errno set
 * (then *status means nothing). */
int cli_wait(pid_t pid, int *status);
/* Whether a wait status says the program exited with status 0. */
bool cli_exited_ok(int status);
/* pipe2(fds, O_CLOEXEC), or where there is none (macOS, POSIX 2008)
 * pipe() and then FD_CLOEXEC (the CLI spawns from one thread only).  0,
 * or -1 with errno set. */
int cli_pipe_cloexec(int fds[2]);

/* ---- source.c, check.c: the new contents, and their check */

/* Copies everything fd holds into f (what names the source in errors);
 * with progress, a read loop that prints a progress line on stderr. */
int cli_copy_fd(aw_file *f, int fd, const char *what, bool progress, aw_error *e);
/* Runs cmd with /bin/sh, its standard output the new contents.  Returns
 * 0, -1 with e filled, or -2 if cmd failed (reported already). */
int cli_copy_cmd(aw_file *f, const char *cmd, bool progress, aw_error *e);
/* The same for argv[0] run with argv (found through PATH, no shell). */
int cli_copy_argv(aw_file *f, char *const argv[], bool progress, aw_error *e);
/* The temporary file's path (malloc'd), for a check command or an editor;
 * FILE is the target as given, follow whether -L resolved it. */
char *cli_temp_path(aw_file *f, const char *file, bool follow, aw_error *e);
/* cmd as a /bin/sh program that takes the path as $1: each {} becomes a
 * reference to $1 quoted for where it stands (or one is appended if cmd
 * has no {}); the path itself is never in the text.  malloc'd. */
char *cli_substitute(const char *cmd, const char *path);
/* Runs the check command on path (sh -c CMD sh PATH): 0 passed, 1 failed
 * (its output, at most its first and last 32 KiB, and its exit status
 * printed), -1 could not run it.  Returns when the check process has
 * ended, even if something it started in the background holds its
 * output open. */
int cli_run_check(const char *cmd, const char *path, bool verbose);

/* Waiting for a directory lock (lock_wait.c): --wait=SECONDS, and the
 * loop that makes a wait visible and bounded:
 *
 *     struct cli_waiter w;
 *     cli_wait_start(&w, path, follow, locks);
 *     do r = aw_...(path, ..., &e);
 *     while (cli_wait_again(&w, r, &e));
 *     if (w.timed_out) return EXIT_FAIL;    (reported already)
 *
 * The call is repeated only after it failed with EINTR at AW_STEP_LOCK,
 * which means it changed nothing. */
extern double cli_lock_wait;   /* seconds; < 0: as long as it takes */
/* Parses --wait's argument s into cli_lock_wait: 0, or EXIT_USAGE with
 * the usage error printed (naming the subcommand cmd, if not NULL). */
int cli_parse_wait(const char *cmd, const char *s);
struct cli_waiter {
	const char *path;      /* the target or link, as given */
	bool follow;           /* -L: the lock is in the resolved file's dir */
	bool active;           /* the timer ticks */
	bool said;             /* "waiting for the lock" printed */
	bool timed_out;        /* gave up after --wait (message printed) */
	double start;
	struct sigaction old_alarm;   /* SIGALRM's action before the ticks */
};
/* Starts the ticks, if locks (the call takes a lock at all). */
void cli_wait_start(struct cli_waiter *w, const char *path, bool follow,
                    bool locks);
/* After a call that returned result: true to call again (it was waiting
 * for the lock and --wait has not passed), else false (the ticks are
 * stopped; on a timeout, w->timed_out is set and the message printed). */
bool cli_wait_again(struct cli_waiter *w, int result, const aw_error *e);

/* ---- the subcommands, one file each (cmd_*.c; rollback beside publish,
 * symlink and exchange in cmd_link.c); main.c dispatches to them */

int cmd_write(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_symlink(int argc, char **argv);
int cmd_exchange(int argc, char **argv);
int cmd_edit(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_run(int argc, char **argv);

#endif
