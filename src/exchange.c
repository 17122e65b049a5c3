/* SPDX-License-Identifier: MIT */
/*
 * exchange.c - AW_KEEP_INODE and AW_IF_UNCHANGED: the commit exchanges
 * the temporary's contents into the target (XFS's exchange-range, or its
 * commit-range, which first checks that the target did not change) instead
 * of renaming the temporary over it, so that the target keeps its inode.
 * See KEEPING THE INODE in the header for what each step promises; the
 * ioctls themselves are in sys.c (xfs_exchange.h).
 *
 *     begin:  open target O_RDONLY -> [start commit] -> dry-run exchange
 *             (through a short-lived O_RDWR open)
 *     commit: reopen O_RDWR (the same inode) -> [preallocate the
 *             target's holes under the temporary's size] -> exchange
 *             -> [fsync target: FULL, FILE]
 *             -> release (the temporary, now holding the old contents,
 *                closed, its name if any removed)
 */
#include "internal.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

int aw__keep_options(aw_options *o)
{
	if (o->flags & AW_IF_UNCHANGED)
		o->flags |= AW_KEEP_INODE;
	if (!(o->flags & AW_KEEP_INODE))
		return 0;
	/* The target keeps its own mode, owner and attributes; there must
	 * be a target. */
	if (o->flags & (AW_NO_CLOBBER | AW_MODE | AW_NO_KEEP_OWNER_XATTRS))
		return EINVAL;
	return 0;
}

/* How "this filesystem or kernel cannot exchange" shows: an ioctl the
 * filesystem does not know (ENOTTY: ext4, btrfs, tmpfs, kernels before
 * 6.10), XFS without the feature (EOPNOTSUPP). */
/* wait_past()'s bound (a tick is 1 to 10 ms) and keep_start_commit()'s. */
#define AW__KEEP_WAIT_MS 50
#define AW__KEEP_START_TRIES 5

static int keep_errno(int err)
{
	if (err == ENOTTY || err == ENOSYS || err == ENOTSUP)
		return EOPNOTSUPP;
	return err;
}

/* fs.protected_hardlinks' concern, whatever the sysctl says: in a sticky
 * world-writable directory a second name of another user's file may be a
 * link its owner made to a file of someone else's (or planted for us to
 * write into): not ours to fill. */
static bool keep_protected(const struct aw_file *f, const struct stat *st,
                           aw_error *e)
{
	if (st->st_uid == geteuid())
		return false;
	struct stat dir;
	if (aw__fstat(f->dirfd, &dir) < 0)
		return aw__fail(e, AW_STEP_STAT_TARGET, f->path, errno), true;
	if (aw__sticky_protected(&dir, st->st_uid) ||
	    ((dir.st_mode & (S_ISVTX | S_IWOTH)) == (S_ISVTX | S_IWOTH) &&
	     st->st_nlink > 1))
		return aw__fail(e, AW_STEP_PROTECTED_FILE, f->path, EACCES), true;
	return false;
}

/* Opens the target's name again (flags: O_RDONLY or O_RDWR); 1 if that
 * gives the inode begin judged (f->target), its descriptor in *fd; 0 if
 * the name gives another file, or none, or a symbolic link (e untouched);
 * -1 on another failure (e says). */
static int keep_reopen(struct aw_file *f, int flags, int *fd, aw_error *e)
{
	*fd = aw__openat(f->dirfd, f->name, flags | O_NOFOLLOW | O_NONBLOCK |
	                 O_CLOEXEC | O_NOCTTY, 0);
	if (*fd < 0)
		return errno == ENOENT || errno == ELOOP
		       ? 0 : aw__fail(e, AW_STEP_OPEN_TARGET, f->path, errno);
	struct stat st;
	int r = 0;
	if (aw__fstat(*fd, &st) < 0)
		r = aw__fail(e, AW_STEP_STAT_TARGET, f->path, errno);
	else if (st.st_dev == f->target.st_dev && st.st_ino == f->target.st_ino &&
	         st.st_nlink > 0)
		return 1;
	aw__close(*fd);
	*fd = -1;
	return r;
}

/* The inode opened must be the one inspect_target() judged (a regular
 * file, not protected from us): a name swapped in between is refused
 * with ESTALE, never written.  It is held read-only until the commit
 * (a program run from it meanwhile is no ETXTBSY); the dry run checks
 * a read-write open now. */
static int keep_open_target(struct aw_file *f, aw_error *e)
{
	if (!f->had_target)
		return aw__fail(e, AW_STEP_OPEN_TARGET, f->path, ENOENT);
	int r = keep_reopen(f, O_RDONLY, &f->keep_fd, e);
	if (r <= 0)
		return r < 0 ? -1 : aw__fail(e, AW_STEP_STAT_TARGET, f->path, ESTALE);
	struct stat st;
	if (aw__fstat(f->keep_fd, &st) < 0)
		return aw__fail(e, AW_STEP_STAT_TARGET, f->path, errno);
	if (!S_ISREG(st.st_mode))
		return aw__fail(e, AW_STEP_TARGET_TYPE, f->path, EINVAL);
	if (keep_protected(f, &st, e))
		return -1;
	f->target = st;
	return 0;
}

static bool same_times(const struct stat *a, const struct stat *b)
{
	return AW__ST_CTIM(a).tv_sec == AW__ST_CTIM(b).tv_sec &&
	       AW__ST_CTIM(a).tv_nsec == AW__ST_CTIM(b).tv_nsec &&
	       AW__ST_MTIM(a).tv_sec == AW__ST_MTIM(b).tv_sec &&
	       AW__ST_MTIM(a).tv_nsec == AW__ST_MTIM(b).tv_nsec;
}

static bool ts_after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/* Until the coarse clock is past the target's ctime and mtime: then a
 * change from now on stamps it with another time, even where timestamps
 * are the coarse clock's tick.  Bounded: a timestamp further ahead
 * (utimensat(), a clock stepped back) is not waited for. */
static void wait_past(const struct stat *st)
{
	for (int ms = 0; ms < AW__KEEP_WAIT_MS; ms++) {
		struct timespec now;
		aw__coarse_now(&now);
		if (ts_after(&now, &AW__ST_CTIM(st)) && ts_after(&now, &AW__ST_MTIM(st)))
			return;
		aw__sleep_ms(1);   /* a signal only shortens it */
	}
}

/* AW_IF_UNCHANGED: XFS_IOC_START_COMMIT records the target's ctime and
 * mtime; before multigrain timestamps (Linux 6.13) those are the coarse
 * clock's tick, and a change later in the same tick would leave them
 * equal.  So the record is made once the clock is past them, and made
 * again if the target changed meanwhile; still changing after a few
 * tries: EBUSY, as a commit would say. */
static int keep_start_commit(struct aw_file *f, aw_error *e)
{
	for (int tries = 0; tries < AW__KEEP_START_TRIES; tries++) {
		struct stat before, after;
		if (aw__fstat(f->keep_fd, &before) < 0)
			return aw__fail(e, AW_STEP_STAT_TARGET, f->path, errno);
		wait_past(&before);
		if (aw__xfs_start_commit(f->keep_fd, f->keep_fresh) < 0)
			return aw__fail(e, AW_STEP_EXCHANGE_CONTENTS, f->path,
			                keep_errno(errno));
		if (aw__fstat(f->keep_fd, &after) < 0)
			return aw__fail(e, AW_STEP_STAT_TARGET, f->path, errno);
		if (same_times(&before, &after))
			return 0;
	}
	return aw__fail(e, AW_STEP_TARGET_CHANGED, f->path, EBUSY);
}

int aw__keep_begin(struct aw_file *f, aw_error *e)
{
	if (keep_open_target(f, e) < 0)
		return -1;
	/* Before anything is read of the target (AW_COPY_TARGET, or the
	 * caller's read before its begin, which this comes after): a change
	 * from here on fails the commit. */
	if ((f->opts.flags & AW_IF_UNCHANGED) && keep_start_commit(f, e) < 0)
		return -1;
	/* The kernel's own answer, now rather than at commit: an exchange
	 * checked in full, changing nothing, through a read-write open made
	 * for it. */
	int rw;
	int r = keep_reopen(f, O_RDWR, &rw, e);
	if (r <= 0)
		return r < 0 ? -1 : aw__fail(e, AW_STEP_STAT_TARGET, f->path, ESTALE);
	r = aw__xfs_exchange(rw, f->fd, 0, 1);
	int err = errno;
	aw__close(rw);
	if (r < 0)
		return aw__fail(e, AW_STEP_EXCHANGE_CONTENTS, f->path,
		                keep_errno(err));
	return 0;
}

/* Whether the temporary changed between two looks: the exchange gives it
 * the target's contents, size and blocks and sets its ctime. */
static bool temp_moved(const struct stat *a, const struct stat *b)
{
	return AW__ST_CTIM(a).tv_sec != AW__ST_CTIM(b).tv_sec ||
	       AW__ST_CTIM(a).tv_nsec != AW__ST_CTIM(b).tv_nsec ||
	       a->st_size != b->st_size || a->st_blocks != b->st_blocks;
}

/* XFS's log recovery (seen on Linux 6.18 and 7.3.4) finishes an exchange
 * cut short by a crash wrongly where it must move the temporary's blocks
 * into a hole of the target (a new version longer than the old): the
 * target gets the new size and the first mapping, the rest is lost
 * (TESTING.md, round 4).  So the target's holes under the new size are
 * allocated first (unwritten: it reads the same), and the exchange swaps
 * blocks for blocks.  Not with AW_IF_UNCHANGED: the allocation sets the
 * target's ctime, and the commit would refuse a change of our own.
 * Only the holes (SEEK_HOLE, the part past the end included) are given to
 * fallocate: XFS reserves space for the whole range it is asked, so one
 * call over a large allocated file could fail with ENOSPC on a disk
 * without that much free. */
static int keep_prealloc(struct aw_file *f, const struct stat *temp, aw_error *e)
{
	if ((f->opts.flags & AW_IF_UNCHANGED) || temp->st_size == 0)
		return 0;
	off_t end = temp->st_size;
#ifdef SEEK_HOLE
	for (off_t at = 0; at < end;) {
		off_t hole = aw__lseek(f->keep_fd, at, SEEK_HOLE);
		if (hole < 0)
			return aw__fail(e, AW_STEP_EXCHANGE_CONTENTS, f->path, errno);
		if (hole >= end)
			break;
		off_t data = aw__lseek(f->keep_fd, hole, SEEK_DATA);
		if (data < 0 && errno != ENXIO)   /* ENXIO: no data after it */
			return aw__fail(e, AW_STEP_EXCHANGE_CONTENTS, f->path, errno);
		off_t stop = data > hole && data < end ? data : end;
		if (aw__xfs_prealloc(f->keep_fd, hole, stop - hole) < 0)
			return aw__fail(e, AW_STEP_EXCHANGE_CONTENTS, f->path, errno);
		at = stop;
	}
#else
	if (aw__xfs_prealloc(f->keep_fd, 0, end) < 0)
		return aw__fail(e, AW_STEP_EXCHANGE_CONTENTS, f->path, errno);
#endif
	return 0;
}

/* 0: exchanged; -1: failed, nothing changed; -2: failed after the
 * contents were exchanged (the kernel's clearing of set-ID bits comes
 * after the swap), or not known (e says which).  No DSYNC: it forces the
 * log once the exchange's intent is logged, before the swap itself, and
 * leaves the swap to log recovery if power fails before the fsync that
 * follows (the recovery above); without it the intent and the swap reach
 * the log together, at that fsync. */
static int commit_exchange(struct aw_file *f, aw_error *e)
{
	struct stat before, after;
	if (aw__fstat(f->fd, &before) < 0)
		return aw__fail(e, AW_STEP_EXCHANGE_CONTENTS, f->path, errno);
	if (keep_prealloc(f, &before, e) < 0)
		return -1;
	int r = (f->opts.flags & AW_IF_UNCHANGED)
	        ? aw__xfs_commit(f->keep_fd, f->fd, 0, f->keep_fresh)
	        : aw__xfs_exchange(f->keep_fd, f->fd, 0, 0);
	if (r == 0)
		return 0;
	/* Commit-range's EBUSY is its freshness check failing. */
	bool changed = (f->opts.flags & AW_IF_UNCHANGED) && errno == EBUSY;
	aw__fail(e, changed ? AW_STEP_TARGET_CHANGED : AW_STEP_EXCHANGE_CONTENTS,
	         f->path, keep_errno(errno));
	if (aw__fstat(f->fd, &after) < 0 || temp_moved(&before, &after))
		return -2;
	return -1;
}

/* The target opened read-write for the exchange, by its name: that name
 * must still give the inode begin opened, and that inode must still have
 * a name, else the exchange would fill a file nobody reaches by the name
 * (another writer renamed its file over it).  EBUSY with AW_IF_UNCHANGED
 * (the target changed: read again and retry), ESTALE without. */
static int keep_reopen_rw(struct aw_file *f, aw_error *e)
{
	int rw;
	int r = keep_reopen(f, O_RDWR, &rw, e);
	if (r < 0)
		return -1;
	if (r == 0 && (f->opts.flags & AW_IF_UNCHANGED))
		return aw__fail(e, AW_STEP_TARGET_CHANGED, f->path, EBUSY);
	if (r == 0)
		return aw__fail(e, AW_STEP_STAT_TARGET, f->path, ESTALE);
	aw__close(f->keep_fd);
	f->keep_fd = rw;
	return 0;
}

int aw__keep_commit(struct aw_file *f, aw_error *e)
{
	int result = AW_FAILED;
	if (f->write_failed) {
		aw__fail(e, AW_STEP_WRITE, f->path, f->write_errno);
		goto out;
	}
	if (keep_reopen_rw(f, e) < 0)
		goto out;
	/* A batch's descriptor budget never closes it: no batch has the
	 * flag.  One journalled transaction: the target is old or new. */
	int r = commit_exchange(f, e);
	if (r < 0) {
		/* The new contents in place, their durability not assured. */
		if (r == -2)
			result = AW_UNSYNCED;
		goto out;
	}
	result = AW_OK;
	/* The target's fsync forces the log with the exchange (the kernel
	 * wrote both files' data before it). */
	if (f->opts.durability != AW_DURABILITY_NONE && aw__fsync(f->keep_fd) < 0) {
		aw__fail(e, AW_STEP_SYNC_TARGET, f->path, errno);
		result = AW_UNSYNCED;
	}
out:
	aw__release(f);
	return result;
}
