/* SPDX-License-Identifier: MIT */
/*
 * replace.c - the replacement protocol: begin, write, commit, discard.
 *
 * The durability sequence lives in aw_file_commit(), one named step after the
 * other; see the header for the guarantees each step serves.
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

int aw__write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = aw__write(fd, p, len);
		if (n < 0)
			return -1;
		/* A write that makes no progress will not make any on a
		 * retry either: the disk is full. */
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Frees f; removes its temporary file unless it became the target.
 * Keeps errno. */
static void release(struct aw_file *f)
{
	int saved = errno;
	aw__backup_drop(f);
	if (f->named)
		aw__unlinkat(f->dirfd, f->tmpname, 0);
	if (f->cleanup_slot >= 0)
		aw__cleanup_unregister(f->cleanup_slot);
	if (f->fd >= 0)
		aw__close(f->fd);
	aw__unlock(f->dirfd, f->lockfd);
	if (f->dirfd >= 0 && !f->shared_dir)
		aw__close(f->dirfd);
	free(f);
	errno = saved;
}

/* The temporary's identity, for a batch that reopens it by name. */
static void remember_temp(struct aw_file *f, const struct stat *st)
{
	f->temp_known = true;
	f->temp_dev = st->st_dev;
	f->temp_ino = st->st_ino;
}

/*
 * Creates a named temporary file for f in f->dirfd, locked, and opened
 * into f->fd, under its marked name (tmpname.c).  Used when O_TMPFILE is
 * unavailable or refused, and when an O_TMPFILE cannot be given a name.
 */
static int create_named(struct aw_file *f, mode_t mode, aw_error *e)
{
	struct stat st;
	int fd = aw__create_marked(f->dirfd, f->name, f->tag, mode, f->tmpname, &st);
	if (fd < 0)
		return aw__fail(e, AW_STEP_CREATE_TEMP, f->path, errno);
	f->fd = fd;
	f->named = true;
	remember_temp(f, &st);
	f->cleanup_slot = aw__cleanup_register(f->dirfd, f->tmpname);
	return 0;
}

static int create_temp(struct aw_file *f, aw_error *e)
{
	/* A new file is created with the mode it will keep, so open()
	 * applies the umask or the directory's default ACL as for any new
	 * file.  A file that will get a given mode starts private. */
	mode_t mode = (f->had_target || (f->opts.flags & AW_MODE)) ? 0600 : 0666;

#if defined(O_TMPFILE) && !defined(AW_FORCE_POSIX)
	if (!(f->opts.flags & AW_NO_TMPFILE)) {
		f->fd = aw__openat(f->dirfd, ".",
		                   O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
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

/*
 * Gives the unnamed O_TMPFILE its hidden marked name in the directory:
 * linkat() cannot replace an existing name, so the rename that follows is
 * what replaces the target.  The name also lets btrfs fsync it (it skips
 * the fsync of a never-linked O_TMPFILE).  The lock comes first, so that
 * the name never refers to an unlocked file of a live writer.
 */
static int name_unnamed(struct aw_file *f, aw_error *e)
{
	struct stat st;
	if (aw__lock_temp(f->fd) < 0 || aw__fstat(f->fd, &st) < 0)
		return aw__fail(e, AW_STEP_LINK_TEMP, f->path, errno);
	if (aw__link_marked(f->dirfd, f->fd, &st, f->name, f->tag, f->tmpname) == 0) {
		f->unnamed = false;
		f->named = true;
		remember_temp(f, &st);
		f->cleanup_slot = aw__cleanup_register(f->dirfd, f->tmpname);
		return 0;
	}
	if (errno != ENOENT && errno != EPERM && errno != EACCES)
		return aw__fail(e, AW_STEP_LINK_TEMP, f->path, errno);

	/* Neither way can name it: copy the contents into a named file. */
	int unnamed_fd = f->fd;
	f->fd = -1;
	f->unnamed = false;
	if (create_named(f, st.st_mode & 07777, e) < 0) {
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

static int check_options(const aw_options *o)
{
	if ((o->flags & ~(unsigned)AW__ALL_FLAGS) != 0)
		return -1;
	if (o->durability != AW_DURABILITY_FULL &&
	    o->durability != AW_DURABILITY_FILE &&
	    o->durability != AW_DURABILITY_NONE)
		return -1;
	if ((o->flags & AW_MODE) && (o->mode & ~(mode_t)07777))
		return -1;
	return 0;
}

/* Looks at what stands at the target's name now. */
static int inspect_target(struct aw_file *f, aw_error *e)
{
	struct stat st;
	if (aw__fstatat(f->dirfd, f->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return aw__fail(e, AW_STEP_STAT_TARGET, f->path, errno);
	}
	if (f->opts.flags & AW_NO_CLOBBER)
		return aw__fail(e, AW_STEP_STAT_TARGET, f->path, EEXIST);
	if (S_ISDIR(st.st_mode))
		return aw__fail(e, AW_STEP_TARGET_TYPE, f->path, EISDIR);
	/* A symbolic link (not followed) is replaced by a new file; it has
	 * no contents or permissions of its own to keep (its mode reads
	 * 0777). */
	if (S_ISLNK(st.st_mode))
		return 0;
	/* FIFOs, sockets and devices: writing "atomically" to them means
	 * nothing and opening them may block or have effects. */
	if (!S_ISREG(st.st_mode))
		return aw__fail(e, AW_STEP_TARGET_TYPE, f->path, EINVAL);
	/* fs.protected_regular's rule, whatever the sysctl says: in a
	 * sticky world-writable directory another user's file is not ours
	 * to replace.  Keeping its owner and mode would hand that user a
	 * file holding our contents (set-user-ID, world-writable if it was
	 * planted so); refused before anything is created. */
	if (st.st_uid != geteuid()) {
		struct stat dir;
		if (aw__fstat(f->dirfd, &dir) < 0)
			return aw__fail(e, AW_STEP_STAT_TARGET, f->path, errno);
		if (aw__sticky_protected(&dir, st.st_uid))
			return aw__fail(e, AW_STEP_PROTECTED_FILE, f->path,
			                EACCES);
	}
	f->had_target = true;
	f->target = st;
	return 0;
}

/* AW_COPY_TARGET: the new contents start as the old ones, shared extents
 * where the filesystem can. */
static int copy_target(struct aw_file *f, aw_error *e)
{
	int src = aw__openat(f->dirfd, f->name, O_RDONLY | O_NOFOLLOW |
	                     O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);
	if (src < 0)
		return aw__fail(e, AW_STEP_READ_SOURCE, f->path, errno);
	enum aw__copy_method how;
	aw_step failed;
	int r = aw__copy_data(f->fd, src, true, &how, &failed);
	int err = errno;
	aw__close(src);
	return r < 0 ? aw__fail(e, failed, f->path, err) : 0;
}

int aw_file_begin_at(aw_file **ret, int dirfd, const char *name,
                const aw_options *opts, aw_error *e)
{
	static const aw_options defaults;
	if (!ret || !name)
		return aw__fail(e, AW_STEP_ARGS, name, EINVAL);
	if (!opts)
		opts = &defaults;
	if (check_options(opts) < 0)
		return aw__fail(e, AW_STEP_ARGS, name, EINVAL);

	size_t len = strlen(name);
	struct aw_file *f = calloc(1, sizeof *f + len + 1);
	if (!f)
		return aw__fail(e, AW_STEP_ARGS, name, ENOMEM);
	memcpy(f->path, name, len + 1);
	f->dirfd = -1;
	f->fd = -1;
	f->cleanup_slot = -1;
	f->backup_fd = -1;
	f->lockfd = -1;
	f->opts = *opts;

	if (aw__open_target(f, dirfd, name, e) < 0)
		goto fail;
	/* The lock comes before the look at the target, so that a
	 * read-modify-write under AW_LOCK sees the last writer's file. */
	if ((f->opts.flags & AW_LOCK) && aw__lock(f->dirfd, &f->lockfd) < 0) {
		aw__fail(e, AW_STEP_LOCK, f->path, errno);
		goto fail;
	}
	if (inspect_target(f, e) < 0)
		goto fail;
	if (create_temp(f, e) < 0)
		goto fail;
	if ((f->opts.flags & AW_COPY_TARGET) && f->had_target &&
	    copy_target(f, e) < 0)
		goto fail;
	*ret = f;
	return 0;

fail:
	release(f);
	return -1;
}

int aw_file_begin(aw_file **ret, const char *path, const aw_options *opts,
             aw_error *e)
{
	return aw_file_begin_at(ret, AT_FDCWD, path, opts, e);
}

int aw_file_fd(const aw_file *f)
{
	if (!f)
		return -1;
	/* A batch may have closed it to stay within its descriptor budget:
	 * the handle itself is not changed, only its descriptor reopened. */
	if (f->fd < 0 && f->batch && aw__batch_reopen((struct aw_file *)f, NULL) < 0)
		return -1;
	return f->fd;
}

int aw_file_write(aw_file *f, const void *buf, size_t len, aw_error *e)
{
	if (!f || (!buf && len))
		return aw__fail(e, AW_STEP_ARGS, f ? f->path : NULL, EINVAL);
	if (f->fd < 0 && f->batch && aw__batch_reopen(f, e) < 0)
		return -1;
	if (aw__write_all(f->fd, buf, len) < 0) {
		f->write_failed = true;
		f->write_errno = errno;
		return aw__fail(e, AW_STEP_WRITE, f->path, errno);
	}
	return 0;
}

const char *aw_file_temp_name(aw_file *f, aw_error *e)
{
	if (!f) {
		aw__fail(e, AW_STEP_ARGS, NULL, EINVAL);
		return NULL;
	}
	if (f->unnamed && name_unnamed(f, e) < 0) {
		/* The handle cannot commit what it cannot name. */
		f->write_failed = true;
		f->write_errno = errno;
		return NULL;
	}
	return f->tmpname;
}

int aw_file_dirfd(const aw_file *f)
{
	return f ? f->dirfd : -1;
}

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
	if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
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
	if (f->unnamed && name_unnamed(f, e) < 0)
		return -1;
	return aw__apply_metadata(f, e);
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
	release(f);
}

int aw_file_commit(aw_file *f, aw_error *e)
{
	if (!f)
		return aw__fail(e, AW_STEP_ARGS, NULL, EINVAL);
	if (aw__prepare(f, e) < 0)
		goto fail;
	/* One fsync, after the name exists: it covers the data, the owner
	 * and mode just set, and (btrfs) the new name.  A crash before it
	 * leaves only a temporary file, never a torn target. */
	if (f->opts.durability != AW_DURABILITY_NONE && aw__fsync(f->fd) < 0) {
		aw__fail(e, AW_STEP_SYNC_TEMP, f->path, errno);
		goto fail;
	}
	int installed = aw__install(f, e);
	if (installed == -1)
		goto fail;

	/* -2: replaced, but neither the backup nor the old file could be put
	 * back at their names (e says so): not a clean success. */
	int result = installed == -2 ? AW_UNSYNCED : AW_OK;
	/* The rename is durable only once the directory is: without this
	 * fsync a power cut can bring back the old file, or no file. */
	if (f->opts.durability == AW_DURABILITY_FULL && aw__fsync(f->dirfd) < 0) {
		if (result == AW_OK)
			aw__fail(e, AW_STEP_SYNC_DIR, f->path, errno);
		result = AW_UNSYNCED;
	}
	release(f);
	return result;

fail:
	release(f);
	return AW_FAILED;
}

void aw_file_discard(aw_file *f)
{
	if (f)
		release(f);
}

int aw_file_replace_at(int dirfd, const char *name, const void *buf, size_t len,
                  const aw_options *opts, aw_error *e)
{
	aw_file *f;
	if (!buf && len)
		return aw__fail(e, AW_STEP_ARGS, name, EINVAL);
	if (aw_file_begin_at(&f, dirfd, name, opts, e) < 0)
		return AW_FAILED;
	if (aw_file_write(f, buf, len, e) < 0) {
		aw_file_discard(f);
		return AW_FAILED;
	}
	return aw_file_commit(f, e);
}

int aw_file_replace(const char *path, const void *buf, size_t len,
               const aw_options *opts, aw_error *e)
{
	return aw_file_replace_at(AT_FDCWD, path, buf, len, opts, e);
}
