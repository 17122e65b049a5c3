/* SPDX-License-Identifier: MIT */
/*
 * tempfile.c - the life of a temporary file: created, locked, named,
 * installed at the target's name, or removed.  What the temporary is for
 * (the replacement protocol, batches, backups) is the callers' business
 * (replace.c, batch.c, backup.c); the names themselves are tmpname.c's.
 *
 * The states of an aw_file's temporary:
 *
 *     aw__temp_create()
 *        |                    \
 *        v                     v
 *     UNNAMED (O_TMPFILE) --> NAMED (marked name, flock held, in the
 *        |   aw__temp_name()    |    cleanup registry)
 *        |                      |  aw__install(): renamed over the target
 *        |                      v
 *        |                   INSTALLED (the name is the target's now)
 *        v                      v
 *     aw__release(): the descriptor closed, a name still ours removed
 *
 * Beside those, a batch may close a NAMED temporary to stay within its
 * descriptor budget (aw__temp_close(), aw__temp_reopen()); write_failed is
 * a sticky mark that any state can get and that refuses the install.
 */
#include "internal.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* ---- creating and naming under marked names -------------------------- */

int aw__lock_temp(int fd)
{
	if (aw__flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno == ENOLCK || errno == EINVAL || errno == EOPNOTSUPP ||
	    errno == ENOTSUP)   /* macOS: a distinct value */
		return 0;
	return -1;
}

struct link_try {
	int fd;
	bool use_proc;
	char proc[64];
};

static int try_link(int dirfd, const char *name, void *ctx)
{
	struct link_try *t = ctx;
	/* AT_EMPTY_PATH names the descriptor itself: allowed to callers with
	 * CAP_DAC_READ_SEARCH, and since Linux 6.10 to whoever opened it.
	 * Elsewhere it fails (ENOENT; EPERM from a seccomp filter that looks
	 * at the flags) and the /proc magic link, a longer lookup, does the
	 * same. */
#ifdef AT_EMPTY_PATH
	if (!t->use_proc) {
		if (aw__linkat(t->fd, "", dirfd, name, AT_EMPTY_PATH) == 0)
			return 0;
		if (errno == EEXIST)
			return 1;
		if (errno == ENAMETOOLONG)
			return -1;
		t->use_proc = true;
	}
#endif
	/* Formatted only when needed: a printf per replace showed in the
	 * profile (issue 17). */
	if (!t->proc[0])
		snprintf(t->proc, sizeof t->proc, "/proc/self/fd/%d", t->fd);
	if (aw__linkat(AT_FDCWD, t->proc, dirfd, name, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	/* A name that spells our inode and exists already was planted by a
	 * guesser: another random part. */
	return errno == EEXIST ? 1 : -1;
}

int aw__link_marked(int dirfd, int fd, const struct stat *st,
                    const char *target, const char *tag, char *name)
{
	struct link_try t = { fd, false, "" };
	struct aw__name_spec spec = { target, true, (uint64_t)st->st_ino, tag };
	return aw__fresh_name(dirfd, &spec, name, try_link, &t);
}

static int try_rename(int dirfd, const char *name, void *ctx)
{
	const char *from = ctx;
	int r = aw__renameat_noreplace(dirfd, from, dirfd, name);
	if (r < 0 && (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP ||
	              errno == ENOTSUP)) {
		/* No such rename here: a plain one.  It would replace an
		 * entry at the marked name, but only one planted by someone
		 * who guessed both our inode and 8 random letters and
		 * digits; and it is one atomic step (a link and an unlink
		 * would be two, and a failed unlink would leave a second
		 * name behind). */
		r = aw__renameat(dirfd, from, dirfd, name);
	}
	if (r == 0)
		return 0;
	return errno == EEXIST ? 1 : -1;
}

int aw__rename_marked(int dirfd, const char *from, const struct stat *st,
                      const char *target, const char *tag, char *name)
{
	struct aw__name_spec spec = { target, true, (uint64_t)st->st_ino, tag };
	return aw__fresh_name(dirfd, &spec, name, try_rename, (void *)from);
}

struct create_try {
	const char *target, *tag;
	mode_t mode;         /* what the next try creates its file with */
	mode_t give;         /* after a lost lock: the mode open() gave the
	                        first file, to set once the lock is ours */
	bool lost;           /* someone else locked a file of ours first */
	char *name;          /* the marked name, once given */
	struct stat *st;
	int fd;
};

/* Until the lock is ours a sweeper may take the empty file for what a
 * writer killed right here leaves, and remove it.  1 (start over), or -1.
 * EWOULDBLOCK: someone else holds the new file's lock first - a sweeper,
 * or anyone who may read the directory (the file is not yet 0600
 * everywhere).  The name is still ours to remove if it refers to our
 * file: nothing is left behind either way. */
static int lock_failed(struct create_try *c, int dirfd, const char *unmarked,
                       int fd)
{
	int err = errno;
	struct stat mine, there;
	if (err != EWOULDBLOCK) {
		aw__unlinkat(dirfd, unmarked, 0);
	} else if (aw__fstat(fd, &mine) == 0) {
		if (aw__fstatat(dirfd, unmarked, &there, AT_SYMLINK_NOFOLLOW) == 0 &&
		    mine.st_dev == there.st_dev && mine.st_ino == there.st_ino)
			aw__unlinkat(dirfd, unmarked, 0);
		/* Whoever could open this file may beat us to the next one
		 * too, each time: a reader of the directory could make us
		 * fail.  The next files start private, where only their
		 * owner can open them, and get the mode this one got (the
		 * umask and a default ACL applied to c->mode) once locked. */
		if (!c->lost && (mine.st_mode & 07777) != (c->mode & 0600)) {
			c->lost = true;
			c->give = mine.st_mode & 07777;
			c->mode &= 0600;
		}
	}
	aw__close(fd);
	if (err == EWOULDBLOCK)
		return 1;
	errno = err;
	return -1;
}

static int try_create(int dirfd, const char *unmarked, void *ctx)
{
	struct create_try *c = ctx;
	int fd = aw__openat(dirfd, unmarked, O_RDWR | O_CREAT | O_EXCL |
	                    O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, c->mode);
	if (fd < 0)
		return errno == EEXIST ? 1 : -1;
	if (aw__lock_temp(fd) < 0 ||
	    (c->lost && aw__fchmod(fd, c->give) < 0) || aw__fstat(fd, c->st) < 0)
		return lock_failed(c, dirfd, unmarked, fd);
	if (c->st->st_nlink == 0) {   /* swept before the lock was ours */
		aw__close(fd);
		return 1;
	}
	/* Only now is the inode known: give the file its marked name. */
	if (aw__rename_marked(dirfd, unmarked, c->st, c->target, c->tag,
	                      c->name) < 0) {
		int err = errno;
		aw__unlinkat(dirfd, unmarked, 0);
		aw__close(fd);
		errno = err;
		return -1;
	}
	c->fd = fd;
	return 0;
}

int aw__create_marked(int dirfd, const char *target, const char *tag,
                      mode_t mode, char *name, struct stat *st)
{
	struct create_try c = { target, tag, mode, 0, false, name, st, -1 };
	char unmarked[NAME_MAX + 1];
	struct aw__name_spec spec = { target, false, 0, NULL };
	int r = aw__fresh_name(dirfd, &spec, unmarked, try_create, &c);
	return r < 0 ? -1 : c.fd;
}

static int try_symlink(int dirfd, const char *name, void *ctx)
{
	if (aw__symlinkat(ctx, dirfd, name) == 0)
		return 0;
	return errno == EEXIST ? 1 : -1;
}

int aw__temp_symlink(const char *target, int dirfd, const char *name, char *tmp)
{
	struct aw__name_spec spec = { name, false, 0, NULL };
	return aw__fresh_name(dirfd, &spec, tmp, try_symlink, (void *)target);
}

/* ---- an aw_file's temporary ------------------------------------------ */

/* The temporary's identity, for a batch that reopens it by name. */
static void remember_temp(struct aw_file *f, const struct stat *st)
{
	f->temp_known = true;
	f->temp_dev = st->st_dev;
	f->temp_ino = st->st_ino;
}

/* The temporary has its marked name f->tmpname now. */
static void now_named(struct aw_file *f, const struct stat *st)
{
	f->unnamed = false;
	f->named = true;
	remember_temp(f, st);
	f->cleanup_slot = aw__cleanup_register(f->dirfd, f->tmpname);
}

/*
 * Creates a named temporary file for f in f->dirfd, locked, and opened
 * into f->fd, under its marked name.  Used when O_TMPFILE is unavailable
 * or refused, and when an O_TMPFILE cannot be given a name.
 */
static int create_named(struct aw_file *f, mode_t mode, aw_error *e)
{
	struct stat st;
	int fd = aw__create_marked(f->dirfd, f->name, f->tag, mode, f->tmpname, &st);
	if (fd < 0)
		return aw__fail(e, AW_STEP_CREATE_TEMP, f->path, errno);
	f->fd = fd;
	now_named(f, &st);
	return 0;
}

/* The mode a temporary file is created with, if it has a name from the
 * start: a new file the mode it will keep, so open() applies the umask or
 * the directory's default ACL as for any new file; a file that will get a
 * given mode starts private. */
static mode_t start_mode(const struct aw_file *f)
{
	return (f->had_target || (f->opts.flags & AW_MODE)) ? 0600 : 0666;
}

#if defined(O_TMPFILE) && !defined(AW_FORCE_POSIX)
/*
 * The mode an unnamed O_TMPFILE of aw_file_replace*() is created with.
 * Nobody can open it before aw_file_commit() names it, and in one shot
 * its contents are then complete and committed at once; from its naming to
 * the rename it may already carry the final mode m instead of 0600 when
 * that lets nobody read or write it whom the final file would not let:
 * m has no set-ID or sticky bits, its group bits are its other bits and
 * the owner has at least those (0644, 0666, 0755, 0700 ...).  Then
 * everyone but its writer has m's other bits on it - as other, as a member
 * of its group (which may not be the final file's), or through a default
 * ACL entry, which the mask (the group bits) bounds - and as much or more
 * on the final file; and the old file has no attributes (in particular no
 * ACL restricting someone below the other bits) that would be copied, or
 * none are kept.  The umask may still narrow m: the commit's fstat shows
 * what the file got, and an fchmod follows when that is not m.
 * Anything else: 0600, and the fchmod as always.
 */
static mode_t unnamed_mode(const struct aw_file *f)
{
	if (!f->oneshot || !f->had_target)
		return start_mode(f);
	mode_t m = (f->opts.flags & AW_MODE) ? f->opts.mode : f->target.st_mode & 07777;
	bool attrs_ok = f->no_xattrs || (f->opts.flags & AW_NO_KEEP_OWNER_XATTRS);
	mode_t u = (m >> 6) & 7, g = (m >> 3) & 7, o = m & 7;
	if (!attrs_ok || (m & ~(mode_t)0777) || g != o || (o & ~u))
		return start_mode(f);
	return m;
}
#endif

int aw__temp_create(struct aw_file *f, aw_error *e)
{
	mode_t mode = start_mode(f);

#if defined(O_TMPFILE) && !defined(AW_FORCE_POSIX)
	if (!(f->opts.flags & AW_NO_TMPFILE)) {
		f->fd = aw__openat(f->dirfd, ".",
		                   O_TMPFILE | O_RDWR | O_CLOEXEC, unnamed_mode(f));
		if (f->fd >= 0) {
			f->unnamed = true;
			return 0;
		}
		/* How "no O_TMPFILE here" shows: the kernel or filesystem
		 * lacks it (EOPNOTSUPP, EISDIR on kernels that read it as
		 * O_DIRECTORY, EINVAL, ENOENT).  Anything else is real. */
		if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL &&
		    errno != ENOENT && errno != ENOTSUP)
			return aw__fail(e, AW_STEP_CREATE_TEMP, f->path, errno);
	}
#endif
	return create_named(f, mode, e);
}

/* Neither way can name the O_TMPFILE: its contents are copied into a named
 * file, which takes its place (created private, as any named temporary). */
static int name_by_copy(struct aw_file *f, aw_error *e)
{
	int unnamed_fd = f->fd;
	f->fd = -1;
	f->unnamed = false;
	if (create_named(f, start_mode(f), e) < 0) {
		aw__close(unnamed_fd);
		return -1;
	}
	enum aw__copy_method how;
	aw_step failed;
	int r = -1;
	if (aw__lseek(unnamed_fd, 0, SEEK_SET) == 0)
		r = aw__copy_data(f->fd, unnamed_fd, true, &how, &failed);
	int err = errno;
	aw__close(unnamed_fd);
	if (r < 0)
		return aw__fail(e, AW_STEP_WRITE, f->path, err);
	return 0;
}

/*
 * Gives the unnamed O_TMPFILE its hidden marked name in the directory:
 * linkat() cannot replace an existing name, so the rename that follows is
 * what replaces the target.  The name also lets btrfs fsync it (it skips
 * the fsync of a never-linked O_TMPFILE).  The lock comes first, so that
 * the name never refers to an unlocked file of a live writer.
 */
static int name_temp(struct aw_file *f, struct stat *fresh, bool *linked,
                     aw_error *e)
{
	if (!f->unnamed)
		return 0;
	struct stat st;
	if (aw__lock_temp(f->fd) < 0 || aw__fstat(f->fd, &st) < 0)
		return aw__fail(e, AW_STEP_LINK_TEMP, f->path, errno);
	if (aw__link_marked(f->dirfd, f->fd, &st, f->name, f->tag, f->tmpname) == 0) {
		now_named(f, &st);
		*fresh = st;
		*linked = true;
		return 0;
	}
	if (errno != ENOENT && errno != EPERM && errno != EACCES)
		return aw__fail(e, AW_STEP_LINK_TEMP, f->path, errno);
	return name_by_copy(f, e);
}

int aw__temp_name(struct aw_file *f, aw_error *e)
{
	struct stat st;
	bool linked = false;
	return name_temp(f, &st, &linked, e);
}

/* ---- a batch's handling of its temporaries --------------------------- */

/* (The cleanup registry keeps the descriptor it was given: it follows.) */
void aw__temp_use_dir(struct aw_file *f, int dirfd)
{
	f->shared_dir = true;
	if (dirfd == f->dirfd)
		return;
	if (f->cleanup_slot >= 0) {
		aw__cleanup_unregister(f->cleanup_slot);
		f->cleanup_slot = aw__cleanup_register(dirfd, f->tmpname);
	}
	aw__close(f->dirfd);
	f->dirfd = dirfd;
}

int aw__temp_retag(struct aw_file *f, const char *tag, aw_error *e)
{
	if (strcmp(f->tag, tag) == 0)
		return 0;
	memcpy(f->tag, tag, sizeof f->tag);
	if (!f->named)
		return 0;
	/* Named before the tag was given: the tagged name. */
	char name[NAME_MAX + 1];
	struct stat st;
	st.st_dev = f->temp_dev;
	st.st_ino = f->temp_ino;
	if (aw__rename_marked(f->dirfd, f->tmpname, &st, f->name, f->tag, name) < 0)
		return aw__fail(e, AW_STEP_LINK_TEMP, f->path, errno);
	memcpy(f->tmpname, name, sizeof name);
	if (f->cleanup_slot >= 0) {
		aw__cleanup_unregister(f->cleanup_slot);
		f->cleanup_slot = aw__cleanup_register(f->dirfd, f->tmpname);
	}
	return 0;
}

void aw__temp_close(struct aw_file *f)
{
	aw__close(f->fd);
	f->fd = -1;
}

int aw__temp_open_again(const struct aw_file *f, int flags)
{
	int fd = aw__openat(f->dirfd, f->tmpname, flags | O_NOFOLLOW | O_NONBLOCK |
	                    O_CLOEXEC | O_NOCTTY, 0);
	if (fd < 0)
		return -1;
	struct stat st;
	int err = 0;
	if (aw__fstat(fd, &st) < 0)
		err = errno;
	else if (!S_ISREG(st.st_mode) || st.st_dev != f->temp_dev ||
	         st.st_ino != f->temp_ino)
		err = ESTALE;   /* someone else's file at our name */
	if (err) {
		aw__close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

int aw__temp_reopen(struct aw_file *f, aw_error *e)
{
	if (!f->named || !f->temp_known)
		return aw__fail(e, AW_STEP_CREATE_TEMP, f->path, EBADF);
	int fd = aw__temp_open_again(f, O_RDWR);
	if (fd < 0 || aw__lseek(fd, 0, SEEK_END) < 0) {
		int err = errno;
		if (fd >= 0)
			aw__close(fd);
		return aw__fail(e, AW_STEP_CREATE_TEMP, f->path, err);
	}
	f->fd = fd;
	return 0;
}

/* ---- installing and releasing ---------------------------------------- */

/* Puts the temporary file at the target's name: rename, or for no-clobber
 * a rename that refuses to replace (or, where the filesystem has no such
 * rename, a link, which refuses as well, then removing the temporary
 * name). */
static int install(struct aw_file *f)
{
	if (!(f->opts.flags & AW_NO_CLOBBER))
		return aw__renameat(f->dirfd, f->tmpname, f->dirfd, f->name);
	if (aw__renameat_noreplace(f->dirfd, f->tmpname, f->dirfd, f->name) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP &&
	    errno != ENOTSUP)
		return -1;
	if (aw__linkat(f->dirfd, f->tmpname, f->dirfd, f->name, 0) < 0)
		return -1;
	/* The target now has its new contents; a temporary name that
	 * cannot be removed is only a second link to it, which a sweep
	 * removes. */
	aw__unlinkat(f->dirfd, f->tmpname, 0);
	return 0;
}

int aw__prepare(struct aw_file *f, aw_error *e)
{
	if (f->write_failed)
		return aw__fail(e, AW_STEP_WRITE, f->path, f->write_errno);
	/* Named here and now (linked, not copied): its status, just taken,
	 * is still the file's - nothing but this call has touched it since,
	 * and only a privileged process could change its owner - so the
	 * metadata step need not ask again.  Named earlier (a batch, a
	 * temp_name() before writes), the caller may have changed it. */
	struct stat st;
	bool linked = false;
	if (name_temp(f, &st, &linked, e) < 0)
		return -1;
	return aw__apply_metadata(f, linked ? &st : NULL, e);
}

int aw__install(struct aw_file *f, aw_error *e)
{
	if (install(f) < 0)
		return aw__fail(e, AW_STEP_RENAME, f->path, errno);
	f->named = false;
	/* The backup (if kept) is put in place only now that the new file
	 * is: a failed commit leaves the older backup as it was. */
	if (f->backup_pending) {
		int r = aw__backup_finish(f, e);
		if (r < 0)
			return r;
	}
	return 0;
}

void aw__release(struct aw_file *f)
{
	int saved = errno;
	aw__backup_drop(f);
	if (f->named)
		aw__unlinkat(f->dirfd, f->tmpname, 0);
	if (f->cleanup_slot >= 0)
		aw__cleanup_unregister(f->cleanup_slot);
	if (f->fd >= 0)
		aw__close(f->fd);
	if (f->keep_fd >= 0)
		aw__close(f->keep_fd);
	aw__unlock(f->dirfd, f->lockfd);
	if (f->dirfd >= 0 && !f->shared_dir && !f->borrowed_dir)
		aw__close(f->dirfd);
	free(f);
	errno = saved;
}
