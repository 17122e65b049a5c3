/* SPDX-License-Identifier: MIT */
/*
 * cmd_edit.c - "atomicwrite edit FILE": what visudo does for sudoers, for
 * any file.  FILE's directory is locked against other atomicwrite writers
 * for the whole session; the user edits a scratch copy beside FILE (same
 * filesystem); if it changed and the check passes, its contents replace
 * FILE atomically, with FILE's mode and owner.
 *
 * The editor gets a scratch file, not the temporary file that will be
 * committed, because many editors save by writing a new file and renaming
 * it over the old name: the scratch is read back by name afterwards, so
 * either way of saving works, and what is at the scratch name when the
 * editor ends is what gets committed.
 *
 * What a session promises:
 *  - the scratch copy is created mode 0600, owned by the user who edits,
 *    and is never read as FILE's new contents unless that user owns it:
 *    it is readable by no one FILE itself does not let read it (it holds
 *    FILE's contents; a symbolic link can make FILE anything);
 *  - FILE's current contents are read by the library, relative to the
 *    directory it opened and locked, never by following a path again;
 *  - a symbolic link FILE is never replaced by a regular file: without -L
 *    it is refused before anything is created, with -L the file it points
 *    to is edited (and the scratch lies beside that file, where the
 *    library put it: its path is asked of the library, not recomputed);
 *  - Ctrl-C (SIGINT, SIGQUIT) while the editor runs goes to the editor:
 *    this process ignores them then, as visudo does, so the scratch copy
 *    is never removed under an editor that goes on;
 *  - a FILE that did not exist is not created when its copy stays empty;
 *  - an edited copy that differs from FILE is never thrown away without a
 *    word: unless the user chose to abort, an edit that was not committed
 *    (the commit failed, the editor failed, the check failed with no
 *    terminal to ask) is kept under a name printed on stderr.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef NAME_MAX
#define NAME_MAX 255
#endif

static void usage(void)
{
	printf(
"Usage: %s edit [OPTION]... FILE\n"
"Edit a copy of FILE with $VISUAL, $EDITOR or vi, and replace FILE with it\n"
"atomically if it changed, keeping FILE's mode and owner.  The copy is\n"
"readable only by you.  Other atomicwrite writers using --lock (and other\n"
"edit sessions) in FILE's directory wait until the session ends.  FILE need\n"
"not exist yet (it is not created if you write nothing).  A FILE that is a\n"
"symbolic link is edited only with -L.\n"
"\n"
"  -c, --check=CMD         run CMD on the edited copy ({} is its path, else it\n"
"                          is appended); replace FILE only if CMD exits 0.  On\n"
"                          a terminal, a failed check offers to edit again\n"
"  -b, --backup[=SUFFIX]   keep the old FILE as FILE~ (or FILE+SUFFIX)\n"
"  -L, --follow-symlinks   edit the file a symbolic link FILE points to (the\n"
"                          link stays)\n"
"      --wait=SECONDS      give up (exit 1) after waiting SECONDS for the lock\n"
"                          (default: as long as it takes; 0: do not wait)\n"
"      --keep-inode        replace FILE's contents in place by an atomic\n"
"                          exchange (XFS with the exchange feature): FILE keeps\n"
"                          its inode and hard links; FILE must exist\n"
"  -h, --help              show this help and exit\n"
"\n"
"An edit that is not committed (the commit, the editor or the check failed)\n"
"is kept as .FILE.aw-edit-XXXXXXXX~ beside the scratch copy, and its name is\n"
"printed; choosing (a)bort after a failed check discards it.\n"
"\n"
"Exit status: 0 replaced, or nothing changed; 1 aborted or failed, FILE\n"
"untouched; 2 usage error; 3 replaced, durability unknown.\n",
	cli_prog);
}

/*
 * The system calls this file makes itself, with EINTR retried as the rest
 * of the CLI does: a signal (or a fault test) may interrupt any of them,
 * and an interrupted call is not a failed step.
 */
static int fstat_r(int fd, struct stat *st)
{
	int r;
	while ((r = fstat(fd, st)) < 0 && errno == EINTR)
		;
	return r;
}

static int fstatat_r(int dirfd, const char *name, struct stat *st, int flags)
{
	int r;
	while ((r = fstatat(dirfd, name, st, flags)) < 0 && errno == EINTR)
		;
	return r;
}

static off_t lseek_r(int fd, off_t off, int whence)
{
	off_t r;
	while ((r = lseek(fd, off, whence)) < 0 && errno == EINTR)
		;
	return r;
}

static int ftruncate_r(int fd, off_t len)
{
	int r;
	while ((r = ftruncate(fd, len)) < 0 && errno == EINTR)
		;
	return r;
}

static int unlinkat_r(int dirfd, const char *name, int flags)
{
	int r;
	while ((r = unlinkat(dirfd, name, flags)) < 0 && errno == EINTR)
		;
	return r;
}

/* Reads up to len bytes at off, as many as there are (a short read is
 * not the end): the count, or -1 with errno set. */
static ssize_t pread_full(int fd, char *buf, size_t len, off_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, off + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Whether the two descriptors hold the same bytes (read from offset 0). */
static int same_contents(int a, int b)
{
	static char ba[65536], bb[65536];
	for (off_t off = 0;;) {
		ssize_t na = pread_full(a, ba, sizeof ba, off);
		ssize_t nb = pread_full(b, bb, sizeof bb, off);
		if (na < 0 || nb < 0)
			return -1;
		if (na != nb || memcmp(ba, bb, (size_t)na) != 0)
			return 0;
		if (na == 0)
			return 1;
		off += na;
	}
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The last component of path, as the library takes it (a pointer into
 * path). */
static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static void refuse_link(const char *path)
{
	cli_warn("%s is a symbolic link: not edited (replacing it would turn the "
	         "link into a regular file); use 'edit -L' to edit the file it "
	         "points to and keep the link", path);
}

/* The session's files: FILE's directory as the library opened it, the
 * scratch copy's name in it and the path the editor is given. */
struct scratch {
	aw_file *h;
	int dirfd;                   /* aw_file_dirfd(h) */
	struct stat st;              /* the scratch file as created */
	char name[NAME_MAX + 1];     /* aw_file_temp_name(h) */
	char *path;                  /* for the editor and the check */
	char *shown_dir;             /* the directory, as messages name it */
};

/*
 * A path that reaches the scratch file the library created, in the
 * directory it opened (aw_file_dirfd), checked by device and inode: FILE's
 * directory as the user spelled it when that is where the scratch is (a
 * readable path for the editor), else that directory's name as the kernel
 * knows it, else the directory descriptor itself through /proc.  Never a
 * path recomputed from FILE's links, which may lead elsewhere by now.
 */
static int name_scratch(struct scratch *sc, const char *file)
{
	char *cands[3] = { NULL, NULL, NULL };
	const char *slash = strrchr(file, '/');
	if (!slash)
		cands[0] = strdup(".");
	else if (slash == file)
		cands[0] = strdup("/");
	else
		cands[0] = strndup(file, (size_t)(slash - file));
	char proc[64], buf[PATH_MAX];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", sc->dirfd);
	ssize_t n = readlink(proc, buf, sizeof buf - 1);
	if (n > 0 && buf[0] == '/') {
		buf[n] = '\0';
		cands[1] = strdup(buf);
	}
	snprintf(proc, sizeof proc, "/proc/%ld/fd/%d", (long)getpid(), sc->dirfd);
	cands[2] = strdup(proc);

	for (size_t i = 0; i < 3 && !sc->path; i++) {
		if (!cands[i])
			continue;
		const char *dir = strcmp(cands[i], "/") == 0 ? "" : cands[i];
		size_t len = strlen(dir) + strlen(sc->name) + 2;
		char *p = malloc(len);
		if (!p)
			break;
		snprintf(p, len, "%s/%s", dir, sc->name);
		struct stat st;
		if (fstatat_r(AT_FDCWD, p, &st, 0) == 0 && same_file(&st, &sc->st)) {
			sc->path = p;
			/* A /proc path means nothing once we are gone. */
			size_t shown = i == 2 && cands[1] ? 1 : i;
			sc->shown_dir = cands[shown];
			cands[shown] = NULL;
		} else {
			free(p);
		}
	}
	for (size_t i = 0; i < 3; i++)
		free(cands[i]);
	if (!sc->path) {
		cli_warn("cannot give the editor a path to the copy of %s (%s in its directory)",
		         file, sc->name);
		return -1;
	}
	return 0;
}

/*
 * Opens what is at the scratch name now: the scratch file, or the file an
 * editor (or a check) renamed over it.  Only a regular file owned by the
 * user editing counts (as the scratch file was: on a filesystem that gives
 * every file one owner, that one); one whose mode lets others read it is
 * made private again, and a file that is not the scratch itself gets a
 * shared lock, so that a sweep leaves it while this session reads and
 * commits it.
 */
static int open_edited(const struct scratch *sc, bool quiet)
{
	int fd;
	while ((fd = openat(sc->dirfd, sc->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	                    O_CLOEXEC | O_NOCTTY)) < 0 && errno == EINTR)
		;
	if (fd < 0) {
		if (quiet)
			return -1;
		if (errno == ELOOP)
			cli_warn("the edited copy %s: a symbolic link: not used", sc->path);
		else
			cli_warn("reading the edited copy %s: %s", sc->path, strerror(errno));
		return -1;
	}
	struct stat st;
	const char *why = NULL;
	if (fstat_r(fd, &st) < 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (st.st_uid != sc->st.st_uid)
		why = "not owned by you";
	if (why) {
		if (!quiet)
			cli_warn("the edited copy %s: %s: not used", sc->path, why);
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		while (fchmod(fd, st.st_mode & 0700) < 0 && errno == EINTR)
			;
	}
	if (!same_file(&st, &sc->st)) {
		while (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EINTR)
			;
	}
	return fd;
}

/* Copies what fd edited holds into the new file out and flushes it: 0,
 * or an errno value. */
static int copy_edit(int edited, int out)
{
	char buf[65536];
	for (off_t off = 0;;) {
		ssize_t n = pread(edited, buf, sizeof buf, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			break;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(out, buf + done, (size_t)(n - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return w < 0 ? errno : ENOSPC;
			done += w;
		}
		off += n;
	}
	while (fsync(out) < 0) {
		if (errno != EINTR)
			return errno;
	}
	return 0;
}

/* Where hard links are not possible: a copy of what was read under the
 * name keep.  0, EEXIST (the name is taken: try another), or another
 * errno value. */
static int keep_copy(const struct scratch *sc, int edited, const char *keep)
{
	int out;
	while ((out = openat(sc->dirfd, keep, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	                     O_CLOEXEC | O_NOCTTY, 0600)) < 0 && errno == EINTR)
		;
	if (out < 0)
		return errno;
	int err = copy_edit(edited, out);
	close(out);
	if (err)
		unlinkat_r(sc->dirfd, keep, 0);
	return err;
}

/*
 * Keeps the edited copy that was not committed: a hard link to what is at
 * the scratch name (or, where links are not possible, a copy), under a
 * name no sweep removes and that programs reading a whole directory of
 * configuration files skip (hidden, ending in "~"), and says where.
 */
static void keep_edit(const struct scratch *sc, int edited, const char *file)
{
	const char *base = base_name(file);
	int len = (int)strlen(base);
	if (len > 200) {
		len = 200;
		while (len > 0 && ((unsigned char)base[len] & 0xC0) == 0x80)
			len--;
	}
	unsigned seed = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL);
	char keep[NAME_MAX + 1];
	int err = EEXIST;
	for (unsigned tries = 0; tries < 100 && err == EEXIST; tries++) {
		seed = seed * 1103515245u + 12345u + tries;
		snprintf(keep, sizeof keep, ".%.*s.aw-edit-%08x~", len, base, seed);
		int r;
		while ((r = linkat(sc->dirfd, sc->name, sc->dirfd, keep, 0)) < 0 &&
		       errno == EINTR)
			;
		err = r == 0 ? 0 : errno;
		/* No hard links here (or the name is gone): copy what was
		 * read into a new file of that name. */
		if (err && err != EEXIST)
			err = keep_copy(sc, edited, keep);
	}
	if (err) {
		cli_warn("could not keep your edit of %s: %s", file, strerror(err));
		return;
	}
	/* Durable too: the directory entry is what keeps the edit. */
	while (fsync(sc->dirfd) < 0 && errno == EINTR)
		;
	cli_warn("your edit is saved in %s/%s",
	         strcmp(sc->shown_dir, "/") == 0 ? "" : sc->shown_dir, keep);
}

/* What the editor gets: SIGINT and SIGQUIT ignored if we were started
 * with them ignored, else their default actions (a handler of ours would
 * not survive the exec anyway). */
struct editor_signals {
	struct sigaction old_int, old_quit;
};

static bool was_ignored(const struct sigaction *sa)
{
	return !(sa->sa_flags & SA_SIGINFO) && sa->sa_handler == SIG_IGN;
}

static void editor_child_signals(void *ctx)
{
	const struct editor_signals *es = ctx;
	signal(SIGINT, was_ignored(&es->old_int) ? SIG_IGN : SIG_DFL);
	signal(SIGQUIT, was_ignored(&es->old_quit) ? SIG_IGN : SIG_DFL);
}

/*
 * Starts the editor on path: the variable may hold arguments ("code
 * --wait"), so the shell splits it, and the path is its own argument.
 * The shell catches SIGINT and SIGQUIT (a caught signal is reset to its
 * default action in the editor it starts), so that a Ctrl-C the editor
 * handles does not kill the shell and make the editor look finished
 * while it goes on.  The pid, or -1 (message printed).
 */
static pid_t start_editor(const char *editor, const char *path,
                          struct editor_signals *es)
{
	static const char fmt[] = "trap : INT QUIT; %s \"$1\"";
	char *cmd = malloc(strlen(editor) + sizeof fmt);
	if (!cmd) {
		cli_warn("starting the editor (%s): %s", editor, strerror(ENOMEM));
		return -1;
	}
	sprintf(cmd, fmt, editor);
	char *argv[] = { (char *)"sh", (char *)"-c", cmd, (char *)"sh", (char *)path, NULL };
	struct cli_child child = { .out = -1, .err = -1, .setup = editor_child_signals,
	                           .ctx = es, .quiet = true };
	pid_t pid = cli_spawn("/bin/sh", argv, &child);
	if (pid < 0)
		cli_warn("starting the editor (%s): %s", editor, strerror(errno));
	free(cmd);
	return pid;
}

/* Waits for the editor: 0 if it exited with 0, else -1 (message
 * printed). */
static int wait_editor(pid_t pid, const char *editor)
{
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
	if (cli_exited_ok(status))
		return 0;
	if (WIFSIGNALED(status))
		cli_warn("the editor (%s) failed (killed by signal %d)", editor,
		         WTERMSIG(status));
	else
		cli_warn("the editor (%s) failed (exit status %d)", editor,
		         WEXITSTATUS(status));
	return -1;
}

/*
 * Runs the editor on path and waits for it.  While it runs, SIGINT and
 * SIGQUIT are ignored here (the editor gets them as they were given to
 * us, normally their default actions): a Ctrl-C meant for the editor
 * (ed, vim's :! commands) must not end this session and remove the
 * scratch copy while the editor goes on and saves later.
 */
static int run_editor(const char *path)
{
	const char *editor = getenv("VISUAL");
	if (!editor || !*editor)
		editor = getenv("EDITOR");
	if (!editor || !*editor)
		editor = "vi";

	struct sigaction ign;
	struct editor_signals es;
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &es.old_int);
	sigaction(SIGQUIT, &ign, &es.old_quit);
	pid_t pid = start_editor(editor, path, &es);
	int result = pid < 0 ? -1 : wait_editor(pid, editor);
	sigaction(SIGINT, &es.old_int, NULL);
	sigaction(SIGQUIT, &es.old_quit, NULL);
	return result;
}

/*
 * Removes what is at the scratch name (the scratch file, or a file an
 * editor renamed over it) and frees its handle.  The library's removal in
 * aw_file_discard() is one unlinkat() whose failure it cannot report: a copy
 * of FILE's contents would stay behind without a word.  So it is removed
 * here first, tried once more after a failure, and one that stays is
 * named, with who removes it: an atomicwrite sweep if it is the scratch
 * file itself (its name's marker proves it ours), else only the user.
 */
static void discard_scratch(struct scratch *sc, const char *file)
{
	if (!sc->h)
		return;
	int err = 0;
	for (int tries = 0; sc->name[0] && tries < 2; tries++) {
		err = 0;
		if (unlinkat_r(sc->dirfd, sc->name, 0) == 0 || errno == ENOENT)
			break;
		err = errno;
	}
	if (err) {
		struct stat st;
		bool ours = fstatat_r(sc->dirfd, sc->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		            same_file(&st, &sc->st);
		const char *who = ours ? "atomicwrite sweep removes it" : "remove it yourself";
		if (sc->shown_dir)
			cli_warn("could not remove the scratch copy %s/%s: %s (%s)",
			         strcmp(sc->shown_dir, "/") == 0 ? "" : sc->shown_dir,
			         sc->name, strerror(err), who);
		else
			cli_warn("could not remove the scratch copy %s beside %s: %s (%s)",
			         sc->name, file, strerror(err), who);
	}
	aw_file_discard(sc->h);
	sc->h = NULL;
}

enum answer { ANSWER_NONE, ANSWER_AGAIN, ANSWER_ABORT };

/* On a terminal: edit again or abort; ANSWER_NONE without a terminal (or
 * at its end). */
static enum answer ask_again(void)
{
	FILE *tty = fopen("/dev/tty", "r+");
	if (!tty || !isatty(STDERR_FILENO)) {
		if (tty)
			fclose(tty);
		return ANSWER_NONE;
	}
	enum answer a = ANSWER_NONE;
	for (;;) {
		fprintf(tty, "What now? (e)dit again, (a)bort: ");
		fflush(tty);
		char line[32];
		if (!fgets(line, sizeof line, tty))
			break;
		if (line[0] == 'e' || line[0] == 'E') {
			a = ANSWER_AGAIN;
			break;
		}
		if (line[0] == 'a' || line[0] == 'A' || line[0] == 'q') {
			a = ANSWER_ABORT;
			break;
		}
	}
	fclose(tty);
	return a;
}

struct session {
	const char *path;
	const char *check;
	const char *backup;
	aw_options opts;
	unsigned commit_flags;   /* --keep-inode: for the commit's handle only */
};

/* Whether FILE exists now (for the messages only). */
static bool target_exists(const struct session *s, int dirfd)
{
	struct stat st;
	if (s->opts.flags & AW_FOLLOW_SYMLINKS)
		return fstatat_r(AT_FDCWD, s->path, &st, 0) == 0;
	return fstatat_r(dirfd, base_name(s->path), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* What a session holds while it runs. */
struct run {
	const struct session *s;
	aw_file *f;        /* FILE's replacement, holding the lock; FILE's
	                    * old contents until the commit */
	struct scratch sc; /* the copy the editor gets */
	int edited;        /* what is at the scratch name, open; or -1 */
	aw_error e;
	int status;        /* how the session ends so far */
};

/*
 * Takes the lock, held by r->f from here to the commit: it covers the
 * whole read-edit-write cycle.  r->f starts as a copy of FILE, read by
 * the library from the directory it locked (never through a link unless
 * -L): that is what "changed" is measured against, and what the scratch
 * copy starts as.  Without -L, FILE is looked at again there: a link is
 * refused.  0, or -1 (reported).
 */
static int begin_locked(struct run *r)
{
	const struct session *s = r->s;
	bool follow = s->opts.flags & AW_FOLLOW_SYMLINKS;
	aw_options locked = s->opts;
	locked.flags |= AW_LOCK | AW_COPY_TARGET | s->commit_flags;
	struct cli_waiter w;
	int begun;
	cli_wait_start(&w, s->path, follow, true);
	do
		begun = aw_file_begin(&r->f, s->path, &locked, &r->e);
	while (cli_wait_again(&w, begun, &r->e));
	if (w.timed_out)
		return -1;
	if (begun < 0) {
		r->status = cli_report_flags(AW_FAILED, &r->e, locked.flags);
		return -1;
	}
	if (follow)
		return 0;
	/* The check that counts: a failed look is no proof that FILE is
	 * not a link. */
	struct stat st;
	if (fstatat_r(aw_file_dirfd(r->f), base_name(s->path), &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		cli_warn("inspecting %s: %s", s->path, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		refuse_link(s->path);
		return -1;
	}
	return 0;
}

/*
 * The scratch copy: a named temporary file beside FILE, in the directory
 * r->f locked, created 0600 whatever FILE's mode and the umask (it is
 * never committed, so the mode only protects it), owned by whoever runs
 * this, holding what orig (FILE's contents) holds.  0, or -1 (reported).
 */
static int make_scratch(struct run *r, int orig)
{
	const struct session *s = r->s;
	struct scratch *sc = &r->sc;
	aw_options named = s->opts;
	named.flags |= AW_NO_TMPFILE | AW_MODE;
	named.mode = 0600;
	named.durability = AW_DURABILITY_NONE;
	if (aw_file_begin(&sc->h, s->path, &named, &r->e) < 0)
		goto failed;
	sc->dirfd = aw_file_dirfd(sc->h);
	struct stat d1, d2;
	if (fstat_r(aw_file_dirfd(r->f), &d1) < 0 || fstat_r(sc->dirfd, &d2) < 0) {
		cli_warn("inspecting the directory of %s: %s", s->path, strerror(errno));
		return -1;
	}
	if (!same_file(&d1, &d2)) {
		cli_warn("%s: its directory changed while the edit began; not edited", s->path);
		return -1;
	}
	const char *tmp = aw_file_temp_name(sc->h, &r->e);
	if (!tmp)
		goto failed;
	if (fstat_r(aw_file_fd(sc->h), &sc->st) < 0) {
		cli_warn("the scratch copy of %s: %s", s->path, strerror(errno));
		return -1;
	}
	snprintf(sc->name, sizeof sc->name, "%s", tmp);
	if (lseek_r(orig, 0, SEEK_SET) < 0) {
		cli_warn("starting the scratch copy of %s: %s", s->path, strerror(errno));
		return -1;
	}
	if (aw_file_copy_from(sc->h, orig, &r->e) < 0)
		goto failed;
	return name_scratch(sc, s->path);
failed:
	r->status = cli_report(AW_FAILED, &r->e);
	return -1;
}

/* The edit made nothing new: says so (a FILE that did not exist and
 * stays empty is not created). */
static void say_unchanged(struct run *r, int orig, bool existed)
{
	if (!existed && lseek_r(orig, 0, SEEK_END) == 0)
		cli_warn("%s not created: nothing was written", r->s->path);
	else
		cli_warn("%s unchanged", r->s->path);
	r->status = EXIT_OK;
}

/*
 * The editor, then the check, again while the user asks for it after a
 * failed check: true when there is something to commit (r->edited is
 * open on it), false when the session ends without a commit (r->status
 * says how; an edit that changed something is kept unless the user
 * chose to abort).
 */
static bool edit_until_checked(struct run *r, int orig, bool existed)
{
	const struct session *s = r->s;
	for (;;) {
		int ran = run_editor(r->sc.path);
		r->edited = open_edited(&r->sc, ran < 0);
		if (ran < 0) {
			/* FILE stays as it is; what was written is kept. */
			if (r->edited >= 0 && same_contents(orig, r->edited) == 0) {
				cli_warn("%s was not changed", s->path);
				keep_edit(&r->sc, r->edited, s->path);
			}
			return false;
		}
		if (r->edited < 0)
			return false;
		int same = same_contents(orig, r->edited);
		if (same < 0) {
			cli_warn("reading the edited copy %s: %s", r->sc.path, strerror(errno));
			return false;
		}
		if (same == 1) {
			say_unchanged(r, orig, existed);
			return false;
		}
		if (!s->check)
			return true;
		int c = cli_run_check(s->check, r->sc.path, false);
		if (c == 0) {
			/* Commit what the check left at the name (a check
			 * may rewrite the copy, by rename too). */
			close(r->edited);
			r->edited = open_edited(&r->sc, false);
			return r->edited >= 0;
		}
		enum answer a = c > 0 ? ask_again() : ANSWER_NONE;
		if (a == ANSWER_AGAIN) {
			close(r->edited);
			r->edited = -1;
			continue;
		}
		cli_warn("%s was not changed", s->path);
		if (a == ANSWER_NONE)
			keep_edit(&r->sc, r->edited, s->path);
		return false;
	}
}

/* r->f held FILE's old contents for comparison: now the edited ones, and
 * the commit.  An edit that did not get in is kept.  The scratch copy
 * goes after this (discard_scratch): its removal failing does not undo
 * the edit, but the user is told what was left. */
static void commit_edit(struct run *r)
{
	const struct session *s = r->s;
	int nfd = aw_file_fd(r->f);
	if (ftruncate_r(nfd, 0) < 0 || lseek_r(nfd, 0, SEEK_SET) < 0) {
		cli_warn("preparing the new contents of %s: %s", s->path, strerror(errno));
		keep_edit(&r->sc, r->edited, s->path);
		return;
	}
	if (aw_file_copy_from(r->f, r->edited, &r->e) < 0 ||
	    (s->backup && aw_file_keep_backup(r->f, s->backup, &r->e) < 0)) {
		r->status = cli_report(AW_FAILED, &r->e);
		keep_edit(&r->sc, r->edited, s->path);
		return;
	}
	int result = aw_file_commit(r->f, &r->e);
	r->f = NULL;
	r->status = cli_report_flags(result, &r->e, s->commit_flags);
	if (result == AW_FAILED)
		keep_edit(&r->sc, r->edited, s->path);
}

static int edit(const struct session *s)
{
	struct stat st;
	/* Refused before anything is created; checked again under the
	 * lock, in the directory the library opened. */
	if (!(s->opts.flags & AW_FOLLOW_SYMLINKS) &&
	    fstatat_r(AT_FDCWD, s->path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode)) {
		refuse_link(s->path);
		return EXIT_FAIL;
	}
	aw_cleanup_install();
	struct run r = {
		.s = s, .f = NULL, .edited = -1, .status = EXIT_FAIL,
		.sc = { .h = NULL, .dirfd = -1, .path = NULL, .shown_dir = NULL },
	};
	if (begin_locked(&r) == 0) {
		int orig = aw_file_fd(r.f);
		bool existed = target_exists(s, aw_file_dirfd(r.f));
		if (make_scratch(&r, orig) == 0 && edit_until_checked(&r, orig, existed))
			commit_edit(&r);
	}
	discard_scratch(&r.sc, s->path);
	if (r.edited >= 0)
		close(r.edited);
	free(r.sc.path);
	free(r.sc.shown_dir);
	aw_file_discard(r.f);
	return r.status;
}

int cmd_edit(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "check", required_argument, NULL, 'c' },
		{ "backup", optional_argument, NULL, 'b' },
		{ "follow-symlinks", no_argument, NULL, 'L' },
		{ "wait", required_argument, NULL, 256 },
		{ "keep-inode", no_argument, NULL, 257 },
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
			if (cli_parse_backup("edit", optarg, &s.backup))
				return EXIT_USAGE;
			break;
		case 'L':
			s.opts.flags |= AW_FOLLOW_SYMLINKS;
			break;
		case 256:   /* --wait */
			if (cli_parse_wait("edit", optarg))
				return EXIT_USAGE;
			break;
		case 257:   /* --keep-inode */
			s.commit_flags |= AW_KEEP_INODE;
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
