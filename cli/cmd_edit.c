/*
 * cmd_edit.c - "atomicwrite edit FILE": what visudo does for sudoers, for
 * any file.  FILE's directory is locked against other atomicwrite writers
 * for the whole session; the user edits a scratch copy beside FILE (same
 * filesystem, private mode); if it changed and the check passes, its
 * contents replace FILE atomically.
 *
 * The editor gets a scratch file, not the temporary file that will be
 * committed, because many editors save by writing a new file and renaming
 * it over the old name: the scratch is read back by name afterwards, so
 * either way of saving works.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void usage(void)
{
	printf(
"Usage: %s edit [OPTION]... FILE\n"
"Edit a copy of FILE with $VISUAL, $EDITOR or vi, and replace FILE with it\n"
"atomically if it changed.  Other atomicwrite writers using --lock (and other\n"
"edit sessions) in FILE's directory wait until the session ends.  FILE need\n"
"not exist yet.\n"
"\n"
"  -c, --check=CMD         run CMD on the edited copy ({} is its path, else it\n"
"                          is appended); replace FILE only if CMD exits 0.  On\n"
"                          a terminal, a failed check offers to edit again\n"
"  -b, --backup[=SUFFIX]   keep the old FILE as FILE~ (or FILE+SUFFIX)\n"
"  -L, --follow-symlinks   edit the file a symbolic link FILE points to\n"
"      --wait=SECONDS      give up (exit 1) after waiting SECONDS for the lock\n"
"                          (default: as long as it takes; 0: do not wait)\n"
"  -h, --help              show this help and exit\n"
"\n"
"Exit status: 0 replaced, or nothing changed; 1 aborted or failed, FILE\n"
"untouched and nothing left behind; 2 usage error; 3 replaced, durability\n"
"unknown.\n",
	cli_prog);
}

/* Whether the two descriptors hold the same bytes (read from offset 0). */
static int same_contents(int a, int b)
{
	static char ba[65536], bb[65536];
	for (off_t off = 0;;) {
		ssize_t na = pread(a, ba, sizeof ba, off);
		ssize_t nb = pread(b, bb, sizeof bb, off);
		if (na < 0 || nb < 0)
			return -1;
		if (na != nb || memcmp(ba, bb, (size_t)na) != 0)
			return 0;
		if (na == 0)
			return 1;
		off += na;
	}
}

static int run_editor(const char *path)
{
	const char *editor = getenv("VISUAL");
	if (!editor || !*editor)
		editor = getenv("EDITOR");
	if (!editor || !*editor)
		editor = "vi";
	fflush(NULL);
	pid_t pid = cli_fork();
	if (pid < 0) {
		cli_warn("starting the editor (%s): %s", editor, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* The variable may hold arguments ("code --wait"): let the
		 * shell split it, and pass the path as its own argument. */
		char *cmd = malloc(strlen(editor) + 8);
		if (!cmd)
			_exit(127);
		sprintf(cmd, "%s \"$1\"", editor);
		execl("/bin/sh", "sh", "-c", cmd, "sh", path, (char *)NULL);
		_exit(127);
	}
	int status;
	if (cli_wait(pid, &status) < 0) {
		int err = errno;
		cli_warn("waiting for the editor (%s): %s", editor, strerror(err));
		/* Not knowing how it ended, stop it before the scratch copy
		 * is removed: an editor still running would write it anew.
		 * ECHILD means it is gone already, and its pid may be
		 * another process's by now. */
		if (err != ECHILD) {
			kill(pid, SIGKILL);
			cli_wait(pid, &status);
		}
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		cli_warn("the editor (%s) failed", editor);
		return -1;
	}
	return 0;
}

/* On a terminal: edit again (1) or abort (0). */
static int ask_again(void)
{
	FILE *tty = fopen("/dev/tty", "r+");
	if (!tty || !isatty(STDERR_FILENO)) {
		if (tty)
			fclose(tty);
		return 0;
	}
	int again = 0;
	for (;;) {
		fprintf(tty, "What now? (e)dit again, (a)bort: ");
		fflush(tty);
		char line[32];
		if (!fgets(line, sizeof line, tty))
			break;
		if (line[0] == 'e' || line[0] == 'E') {
			again = 1;
			break;
		}
		if (line[0] == 'a' || line[0] == 'A' || line[0] == 'q')
			break;
	}
	fclose(tty);
	return again;
}

struct session {
	const char *path;
	const char *check;
	const char *backup;
	aw_options opts;
};

static int edit(const struct session *s)
{
	aw_cleanup_install();
	aw_error e;
	aw_file *f = NULL, *scratch = NULL;
	char *scratch_path = NULL;
	int status = EXIT_FAIL;
	int orig = -1, edited = -1;

	/* The lock, held by f from here to the commit, covers the whole
	 * read-edit-write cycle. */
	aw_options locked = s->opts;
	locked.flags |= AW_LOCK;
	aw_options named = s->opts;
	named.flags |= AW_NO_TMPFILE;
	struct cli_waiter w;
	int r;
	cli_wait_start(&w, s->path, s->opts.flags & AW_FOLLOW_SYMLINKS, true);
	do
		r = aw_begin(&f, s->path, &locked, &e);
	while (cli_wait_again(&w, r, &e));
	if (w.timed_out)
		goto out;
	if (r < 0 || aw_begin(&scratch, s->path, &named, &e) < 0) {
		status = cli_report(AW_FAILED, &e);
		goto out;
	}
	/* FILE as it is now, under the lock: the copy to edit and what
	 * "changed" is measured against. */
	orig = cli_open_read(s->path);
	if (orig < 0 && errno != ENOENT) {
		cli_warn("opening %s: %s", s->path, strerror(errno));
		goto out;
	}
	if (orig >= 0 && aw_copy_from(scratch, orig, &e) < 0) {
		status = cli_report(AW_FAILED, &e);
		goto out;
	}
	scratch_path = cli_temp_path(scratch, s->path, s->opts.flags & AW_FOLLOW_SYMLINKS, &e);
	if (!scratch_path) {
		status = cli_report(AW_FAILED, &e);
		goto out;
	}

	for (;;) {
		if (run_editor(scratch_path) < 0)
			goto out;
		edited = cli_open_read(scratch_path);
		if (edited < 0) {
			cli_warn("reading the edited copy %s: %s", scratch_path, strerror(errno));
			goto out;
		}
		int same = orig >= 0 ? same_contents(orig, edited) : 0;
		if (same == 1) {
			cli_warn("%s unchanged", s->path);
			status = EXIT_OK;
			goto out;
		}
		if (!s->check || cli_run_check(s->check, scratch_path, false) == 0)
			break;
		close(edited);
		edited = -1;
		if (!ask_again()) {
			cli_warn("%s was not changed", s->path);
			goto out;
		}
	}

	if (aw_copy_from(f, edited, &e) < 0 ||
	    (s->backup && aw_keep_backup(f, s->backup, &e) < 0)) {
		status = cli_report(AW_FAILED, &e);
		goto out;
	}
	status = cli_report(aw_commit(f, &e), &e);
	f = NULL;
	/* The scratch copy goes now; its removal failing does not undo the
	 * edit, but the user must know what was left behind. */
	aw_discard(scratch);
	scratch = NULL;
	if (access(scratch_path, F_OK) == 0)
		cli_warn("could not remove the edited copy %s (atomicwrite sweep removes it)",
		         scratch_path);

out:
	if (orig >= 0)
		close(orig);
	if (edited >= 0)
		close(edited);
	free(scratch_path);
	aw_discard(scratch);
	aw_discard(f);
	return status;
}

int cmd_edit(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "check", required_argument, NULL, 'c' },
		{ "backup", optional_argument, NULL, 'b' },
		{ "follow-symlinks", no_argument, NULL, 'L' },
		{ "wait", required_argument, NULL, 256 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct session s = { 0 };
	int c;
	while ((c = getopt_long(argc, argv, "c:bLh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			s.check = optarg;
			break;
		case 'b':
			s.backup = optarg ? optarg : "~";
			if (!*s.backup || strchr(s.backup, '/'))
				return cli_usage_error("edit: invalid backup suffix '%s'", s.backup);
			break;
		case 'L':
			s.opts.flags |= AW_FOLLOW_SYMLINKS;
			break;
		case 256:   /* --wait */
			if (cli_parse_wait(optarg) < 0)
				return cli_usage_error("edit: invalid --wait '%s': give seconds, such as 10 or 0.5", optarg);
			break;
		case 'h':
			usage();
			return EXIT_OK;
		default:
			fprintf(stderr, "Try '%s edit --help' for more information.\n", cli_prog);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error("edit: missing FILE operand");
	if (optind + 1 < argc)
		return cli_usage_error("edit: extra operand '%s'", argv[optind + 1]);
	s.path = argv[optind];
	return edit(&s);
}
