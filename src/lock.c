/* SPDX-License-Identifier: MIT */
/*
 * lock.c - the directory lock that AW_LOCK writers, publishers, rollbacks,
 * aw_link_set() and aw_dir_sweep() take (see "THE DIRECTORY LOCK" in
 * atomicwrite.h).
 *
 * The lock is the existence of the file AW__LOCK_NAME in the directory.
 * Only a user who may write the directory can create it, and its holder
 * keeps an flock() on it from before the name exists until after the name
 * is gone, so that its flock says whether the holder lives:
 *
 *   take:    an O_TMPFILE (mode 0600), flocked, then linkat() to the name:
 *            the name never exists unlocked.  Without O_TMPFILE (or
 *            without a way to link it): a flocked temporary file of ours
 *            (aw__create_marked(), mode 0600), link() to the name, then
 *            the temporary name is removed; the name never exists
 *            unlocked either.
 *   release: unlink the name, then close (the flock goes with the close).
 *   wait:    the name exists.  Open it (O_NOFOLLOW|O_NONBLOCK), and wait
 *            for its flock: when the flock is ours, its holder has
 *            released it (the name is gone or another file's) or died (the
 *            name still refers to the file we hold): then remove it, while
 *            holding its flock, and start over.  Nobody else can remove it
 *            meanwhile: under this protocol only a holder of a lock file's
 *            flock unlinks it.
 *            A lock file we may not open (another user's, 0600) cannot be
 *            judged: wait for its name to go (polling) and start over.
 *
 * Users who may only read the directory cannot create the name and cannot
 * open another user's 0600 file, so they can neither hold nor fake the
 * lock (a directory's own flock, the old lock, any reader could hold).
 * What stands at the name is taken for a lock file only if it is an empty
 * regular file: a user's file with data there is never removed (EEXIST),
 * and anything else is waited for like a lock we cannot judge.
 *
 * Waiting is interruptible: the blocking flock() and the poll's sleep are
 * the seam's interruptible calls, so a caught signal (a handler installed
 * without SA_RESTART) ends the wait with EINTR, having changed nothing.
 */
#include "internal.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

/* How long a waiter that cannot judge the lock file sleeps between looks
 * at its name. */
#define AW__LOCK_POLL_MS 50

bool aw__is_lock_name(const char *name)
{
	return strcmp(name, AW__LOCK_NAME) == 0;
}

/* Whether st can be a lock file of ours: lock files are empty regular
 * files; a user's file with contents at the name is not one. */
static bool lock_shaped(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_size == 0;
}

/* Whether the lock name still refers to the file fd (whose status is st).
 * 1 yes, 0 no (gone or another file), -1 error. */
static int still_named(int dirfd, const struct stat *st)
{
	struct stat now;
	if (aw__fstatat(dirfd, AW__LOCK_NAME, &now, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	return now.st_dev == st->st_dev && now.st_ino == st->st_ino;
}

#if defined(O_TMPFILE) && !defined(AW_FORCE_POSIX)
/*
 * Gives the flocked unnamed file fd the lock name.  0 named, 1 the name
 * exists, 2 this system cannot name an unnamed file (use the O_EXCL way),
 * -1 error.
 */
static int link_unnamed(int dirfd, int fd)
{
	/* AT_EMPTY_PATH first (CAP_DAC_READ_SEARCH, or Linux 6.10), then the
	 * /proc magic link, as replace.c names its temporary file. */
	if (aw__linkat(fd, "", dirfd, AW__LOCK_NAME, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno == EEXIST)
		return 1;
	if (errno != ENOENT && errno != EPERM && errno != EACCES &&
	    errno != EINVAL)
		return -1;
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	if (aw__linkat(AT_FDCWD, proc, dirfd, AW__LOCK_NAME, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno == EEXIST)
		return 1;
	if (errno == ENOENT || errno == EPERM || errno == EACCES)
		return 2;
	return -1;
}
#endif

/*
 * One attempt at creating the lock file.  Returns 0 with *out the flocked
 * descriptor (the lock is ours), 1 if the name exists, -1 on error.
 */
static int create_lock(int dirfd, int *out)
{
	int fd;
#if defined(O_TMPFILE) && !defined(AW_FORCE_POSIX)
	fd = aw__openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0) {
		/* Nobody else has this file: the flock cannot be held. */
		if (aw__flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int err = errno;
			aw__close(fd);
			errno = err;
			return -1;
		}
		int r = link_unnamed(dirfd, fd);
		if (r == 0) {
			*out = fd;
			return 0;
		}
		int err = errno;
		aw__close(fd);
		errno = err;
		if (r != 2)
			return r;
	} else if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL &&
	           errno != ENOENT && errno != ENOTSUP) {
		/* The same "no O_TMPFILE here" errnos as replace.c's. */
		return -1;
	}
#endif
	/* Without O_TMPFILE: a flocked temporary file of ours (marked with
	 * its inode, so that a sweep can remove it if we die), then link()
	 * to the lock's name, which refuses an existing name: the name again
	 * never exists unlocked. */
	char tag[AW__TAG_LEN + 1], tmp[NAME_MAX + 1];
	struct stat st;
	aw__random_tag(tag);
	fd = aw__create_marked(dirfd, "lock", tag, 0600, tmp, &st);
	if (fd < 0)
		return -1;
	/* aw__create_marked() tolerates a filesystem without flock(); a
	 * lock cannot: there its holder could never be judged. */
	int r = aw__flock(fd, LOCK_EX | LOCK_NB) < 0 ? -1
	        : aw__linkat(dirfd, tmp, dirfd, AW__LOCK_NAME, 0) == 0 ? 0
	        : errno == EEXIST ? 1 : -1;
	int err = errno;
	/* The temporary name goes (tried twice, as aw__unlock() does: one
	 * left is a second name of the lock file, a sweep's once unlocked). */
	if (aw__unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT)
		aw__unlinkat(dirfd, tmp, 0);
	if (r == 0) {
		*out = fd;
		return 0;
	}
	aw__close(fd);
	errno = err;
	return r;
}

/*
 * Waits, polling, until the name no longer refers to the file st
 * describes (a lock file we cannot open or judge).  0 when it changed,
 * -1 with EWOULDBLOCK (not waiting), EINTR or another errno.
 */
static int wait_gone(int dirfd, const struct stat *st, bool wait)
{
	if (!wait) {
		errno = EWOULDBLOCK;
		return -1;
	}
	for (;;) {
		if (aw__sleep_ms(AW__LOCK_POLL_MS) < 0)
			return -1;
		int named = still_named(dirfd, st);
		if (named <= 0)
			return named;
	}
}

/*
 * The lock name exists: judges what stands there.  Returns 0 when it is
 * gone now (released, or a dead holder's file that we removed: *cleared
 * set), so the caller tries again; -1 with EWOULDBLOCK (held, and not
 * waiting), EEXIST (not a lock file: a user's file with contents), EINTR
 * (a signal interrupted the wait) or another errno.
 */
static int judge(int dirfd, bool wait, bool *cleared)
{
	struct stat st;
	int fd = aw__openat(dirfd, AW__LOCK_NAME, O_RDONLY | O_NOFOLLOW |
	                    O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		/* Not ours to open (another user's 0600 file), or not a
		 * file (a symbolic link, a socket): its holder cannot be
		 * judged; wait for the name to go. */
		if (errno != EACCES && errno != EPERM && errno != ELOOP &&
		    errno != ENXIO && errno != EWOULDBLOCK)
			return -1;
		if (aw__fstatat(dirfd, AW__LOCK_NAME, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return errno == ENOENT ? 0 : -1;
		if (S_ISREG(st.st_mode) && st.st_size > 0) {
			errno = EEXIST;
			return -1;
		}
		return wait_gone(dirfd, &st, wait);
	}
	if (aw__fstat(fd, &st) < 0)
		goto fail;
	if (!lock_shaped(&st)) {
		aw__close(fd);
		if (S_ISREG(st.st_mode)) {
			errno = EEXIST;
			return -1;
		}
		return wait_gone(dirfd, &st, wait);
	}
	int r = wait ? aw__flock_wait(fd, LOCK_EX)
	             : aw__flock(fd, LOCK_EX | LOCK_NB);
	if (r < 0)
		goto fail;
	/* Its flock is ours: the holder released the lock (the name is
	 * gone, or is a newer holder's file) or died (the name still refers
	 * to this file).  A dead holder's file goes now, while we hold its
	 * flock, so that no one else can be removing or taking it. */
	int named = still_named(dirfd, &st);
	if (named < 0)
		goto fail;
	if (named == 1) {
		if (aw__unlinkat(dirfd, AW__LOCK_NAME, 0) < 0 && errno != ENOENT)
			goto fail;
		*cleared = true;
	}
	aw__close(fd);
	return 0;

fail:;
	int err = errno;
	aw__close(fd);
	errno = err;
	return -1;
}

static int take(int dirfd, bool wait, int *lockfd, bool *cleared)
{
	*lockfd = -1;
	for (;;) {
		int r = create_lock(dirfd, lockfd);
		if (r <= 0)
			return r;
		if (judge(dirfd, wait, cleared) < 0)
			return -1;
	}
}

int aw__lock(int dirfd, int *lockfd)
{
	bool cleared = false;
	return take(dirfd, true, lockfd, &cleared);
}

int aw__trylock(int dirfd, int *lockfd, bool *cleared)
{
	*cleared = false;
	return take(dirfd, false, lockfd, cleared);
}

void aw__unlock(int dirfd, int lockfd)
{
	if (lockfd < 0)
		return;
	int saved = errno;
	/* The name is ours to remove: nobody else removes a lock file whose
	 * flock is held.  An unlink that fails once is tried again (a lock
	 * file left behind makes the writers who cannot open it wait until
	 * its owner, root or a sweep removes it); one still left is a
	 * dead holder's file to the next writer that can open it. */
	if (aw__unlinkat(dirfd, AW__LOCK_NAME, 0) < 0 && errno != ENOENT)
		aw__unlinkat(dirfd, AW__LOCK_NAME, 0);
	aw__close(lockfd);
	errno = saved;
}
