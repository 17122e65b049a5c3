/* SPDX-License-Identifier: MIT */
/*
 * replace.c - the replacement protocol: begin, write, commit, discard.
 *
 * The durability sequence lives in aw_file_commit(), one named step after the
 * other; see the header for the guarantees each step serves.  The
 * temporary file's own life (create, name, lock, install) is tempfile.c's.
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

/* Looks at what stands at the target's name now. */
static int inspect_target(struct aw_file *f, aw_error *e)
{
	struct stat st;
	bool keep = f->opts.flags & AW_KEEP_INODE;
	if (aw__fstatat(f->dirfd, f->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		/* AW_KEEP_INODE: no inode to keep, and nothing opened later
		 * by that name (it may be another user's by then). */
		if (errno == ENOENT && keep)
			return aw__fail(e, AW_STEP_OPEN_TARGET, f->path, ENOENT);
		if (errno == ENOENT)
			return 0;
		/* A bare name in a borrowed descriptor: ENOTDIR says the
		 * descriptor is no directory, as opening it would have;
		 * EBADF (its flags not asked, see borrow_dir()) that it is
		 * none. */
		if ((errno == ENOTDIR || errno == EBADF) && f->borrowed_dir)
			return aw__fail(e, AW_STEP_OPEN_DIR, f->path, errno);
		return aw__fail(e, AW_STEP_STAT_TARGET, f->path, errno);
	}
	if (f->opts.flags & AW_NO_CLOBBER)
		return aw__fail(e, AW_STEP_STAT_TARGET, f->path, EEXIST);
	if (S_ISDIR(st.st_mode))
		return aw__fail(e, AW_STEP_TARGET_TYPE, f->path, EISDIR);
	/* A symbolic link (not followed) is replaced by a new file; it has
	 * no contents or permissions of its own to keep (its mode reads
	 * 0777). */
	if (S_ISLNK(st.st_mode) && keep)
		return aw__fail(e, AW_STEP_TARGET_TYPE, f->path, EINVAL);
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
	/* One shot: the look at the old file's attributes, which the commit
	 * makes, made now (nothing of the caller's runs between the two),
	 * so that the temporary may start with its final mode (see
	 * aw__temp_create()); the commit does not ask again. */
	if (f->oneshot && !(f->opts.flags & AW_NO_KEEP_OWNER_XATTRS)) {
		f->xattrs_asked = true;
		f->no_xattrs = aw__listxattrat(f->dirfd, f->name, NULL, 0) == 0;
	}
	return 0;
}

/* AW_COPY_TARGET: the new contents start as the old ones, shared extents
 * where the filesystem can. */
static int copy_target(struct aw_file *f, aw_error *e)
{
	/* AW_KEEP_INODE: from the inode begin opened and will exchange
	 * into (just opened: its offset is 0), not from whatever the name
	 * gives now. */
	int src = f->keep_fd;
	if (src < 0)
		src = aw__openat(f->dirfd, f->name, O_RDONLY | O_NOFOLLOW |
		                 O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);
	if (src < 0)
		return aw__fail(e, AW_STEP_READ_SOURCE, f->path, errno);
	enum aw__copy_method how;
	aw_step failed;
	int r = aw__copy_data(f->fd, src, true, &how, &failed);
	int err = errno;
	if (src != f->keep_fd)
		aw__close(src);
	return r < 0 ? aw__fail(e, failed, f->path, err) : 0;
}

/* aw_file_begin_at(); borrow: see aw__open_target(). */
static int begin(aw_file **ret, int dirfd, const char *name,
                 const aw_options *opts, bool borrow, aw_error *e)
{
	aw_options o;
	if (!ret || !name)
		return aw__fail(e, AW_STEP_ARGS, name, EINVAL);
	if (aw__file_options(&o, opts, name, e) < 0)
		return -1;

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
	f->keep_fd = -1;
	f->opts = o;
	f->oneshot = borrow;

	if (aw__open_target(f, dirfd, name, borrow, e) < 0)
		goto fail;
	/* The lock comes before the look at the target, so that a
	 * read-modify-write under AW_LOCK sees the last writer's file. */
	if ((f->opts.flags & AW_LOCK) && aw__lock(f->dirfd, &f->lockfd) < 0) {
		aw__fail(e, AW_STEP_LOCK, f->path, errno);
		goto fail;
	}
	if (inspect_target(f, e) < 0)
		goto fail;
	if (aw__temp_create(f, e) < 0)
		goto fail;
	if ((f->opts.flags & AW_KEEP_INODE) && aw__keep_begin(f, e) < 0)
		goto fail;
	if ((f->opts.flags & AW_COPY_TARGET) && f->had_target &&
	    copy_target(f, e) < 0)
		goto fail;
	*ret = f;
	return 0;

fail:
	aw__release(f);
	return -1;
}

int aw_file_begin_at(aw_file **ret, int dirfd, const char *name,
                const aw_options *opts, aw_error *e)
{
	return begin(ret, dirfd, name, opts, false, e);
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
	if (aw__temp_name(f, e) < 0) {
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

int aw_file_commit(aw_file *f, aw_error *e)
{
	if (!f)
		return aw__fail(e, AW_STEP_ARGS, NULL, EINVAL);
	if (f->opts.flags & AW_KEEP_INODE)
		return aw__keep_commit(f, e);
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
	aw__release(f);
	return result;

fail:
	aw__release(f);
	return AW_FAILED;
}

void aw_file_discard(aw_file *f)
{
	if (f)
		aw__release(f);
}

int aw_file_replace_at(int dirfd, const char *name, const void *buf, size_t len,
                  const aw_options *opts, aw_error *e)
{
	aw_file *f;
	if (!buf && len)
		return aw__fail(e, AW_STEP_ARGS, name, EINVAL);
	/* The handle lives only within this call: dirfd may be its own. */
	if (begin(&f, dirfd, name, opts, true, e) < 0)
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
