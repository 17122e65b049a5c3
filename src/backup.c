/* SPDX-License-Identifier: MIT */
/*
 * backup.c - keeping the file a commit replaces as NAME~ (or another
 * suffix): a hard link to the old inode, so it costs no copy, and renamed
 * into place so a reader of the backup name also sees old or new, whole.
 *
 * aw_file_keep_backup() makes the link under the old inode's marked temporary
 * name and holds a shared flock() on the old inode while that link exists,
 * so a concurrent aw_dir_sweep() (which needs LOCK_EX) leaves it.  The link is
 * renamed to the backup's name only after the commit's own rename has
 * succeeded (aw__backup_finish()): a commit that fails, however late,
 * leaves the previous backup as it was.
 */
#include "internal.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

/* A sweeper holds LOCK_EX on an inode for a few system calls; someone
 * else's long-held LOCK_EX (an application locking its own file) keeps
 * sweeps away just as well, so after about a second the link is made
 * without our own lock. */
#define AW__SHARED_LOCK_TRIES 1000

static void take_shared_lock(int fd)
{
	for (int i = 0; i < AW__SHARED_LOCK_TRIES; i++) {
		if (aw__flock(fd, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK)
			return;
		aw__sleep_ms(1);   /* through the seam; a signal only shortens it */
	}
}

void aw__backup_drop(struct aw_file *f)
{
	if (!f->backup_pending)
		return;
	int saved = errno;
	aw__unlinkat(f->dirfd, f->backup_tmp, 0);
	if (f->backup_fd >= 0)
		aw__close(f->backup_fd);
	f->backup_fd = -1;
	f->backup_pending = false;
	errno = saved;
}

struct name_link {
	struct aw_file *f;
	const struct stat *st;
};

/* Links the target's name at the candidate name, and keeps the link only
 * if it is the inode looked at (the name may have been replaced
 * meanwhile). */
static int try_link_name(int dirfd, const char *tmp, void *ctx)
{
	struct name_link *l = ctx;
	if (aw__linkat(dirfd, l->f->name, dirfd, tmp, 0) < 0)
		return errno == EEXIST ? 1 : -1;
	struct stat now;
	if (aw__fstatat(dirfd, tmp, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	    now.st_dev == l->st->st_dev && now.st_ino == l->st->st_ino)
		return 0;
	aw__unlinkat(dirfd, tmp, 0);
	errno = ESTALE;
	return -1;
}

/* Links the old file (fd, st) under its marked name for backup.  Returns
 * 0, or -1 with errno. */
static int link_old(struct aw_file *f, int fd, const struct stat *st,
                    const char *backup)
{
	if (fd >= 0) {
		if (aw__link_marked(f->dirfd, fd, st, backup, NULL, f->backup_tmp) == 0)
			return 0;
		if (errno != ENOENT && errno != EPERM && errno != EACCES)
			return -1;
	}
	/* No way to link a descriptor here: link the name. */
	struct name_link l = { f, st };
	struct aw__name_spec spec = { backup, true, (uint64_t)st->st_ino, NULL };
	return aw__fresh_name(f->dirfd, &spec, f->backup_tmp, try_link_name, &l);
}

int aw_file_keep_backup(aw_file *f, const char *suffix, aw_error *e)
{
	if (!f || !suffix || !*suffix || strchr(suffix, '/') ||
	    (f->opts.flags & AW_KEEP_INODE))
		return aw__fail(e, AW_STEP_ARGS, f ? f->path : NULL, EINVAL);
	aw__backup_drop(f);   /* asked again: the last call counts */
	int n = snprintf(f->backup_name, sizeof f->backup_name, "%s%s", f->name, suffix);
	if (n < 0 || (size_t)n >= sizeof f->backup_name)
		return aw__fail(e, AW_STEP_BACKUP, f->path, ENAMETOOLONG);
	struct stat st;
	/* A directory at the backup's name would fail the rename only after
	 * the commit's: refuse now. */
	if (aw__fstatat(f->dirfd, f->backup_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode))
		return aw__fail2(e, AW_STEP_BACKUP, f->path, f->backup_name, EISDIR);

	int fd = aw__openat(f->dirfd, f->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	                    O_CLOEXEC | O_NOCTTY, 0);
	if (fd >= 0) {
		if (aw__fstat(fd, &st) < 0) {
			int err = errno;
			aw__close(fd);
			return aw__fail2(e, AW_STEP_BACKUP, f->path, f->backup_name, err);
		}
		take_shared_lock(fd);
	} else {
		/* A symbolic link at the name (replaced, not followed) is kept
		 * as itself; a file we may not read gets an unlocked link. */
		if (errno != ELOOP && errno != EACCES && errno != EPERM &&
		    errno != ENOENT)
			return aw__fail2(e, AW_STEP_BACKUP, f->path, f->backup_name, errno);
		if (aw__fstatat(f->dirfd, f->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				return 0;   /* no old file: nothing to keep */
			return aw__fail2(e, AW_STEP_BACKUP, f->path, f->backup_name, errno);
		}
	}
	if (link_old(f, fd, &st, f->backup_name) < 0) {
		int err = errno;
		if (fd >= 0)
			aw__close(fd);
		if (err == ENOENT)
			return 0;   /* the old file went meanwhile */
		return aw__fail2(e, AW_STEP_BACKUP, f->path, f->backup_name, err);
	}
	f->backup_fd = fd;
	f->backup_pending = true;
	return 0;
}

int aw__backup_finish(struct aw_file *f, aw_error *e)
{
	int result = 0;
	if (aw__renameat(f->dirfd, f->backup_tmp, f->dirfd, f->backup_name) < 0) {
		int err = errno;
		/* The new file is in place but its backup is not: put the old
		 * file back, so that the commit fails as a whole. */
		if (aw__renameat(f->dirfd, f->backup_tmp, f->dirfd, f->name) == 0) {
			result = -1;
		} else {
			aw__unlinkat(f->dirfd, f->backup_tmp, 0);
			result = -2;
		}
		aw__fail2(e, AW_STEP_BACKUP, f->path, f->backup_name, err);
	}
	if (f->backup_fd >= 0)
		aw__close(f->backup_fd);
	f->backup_fd = -1;
	f->backup_pending = false;
	return result;
}
