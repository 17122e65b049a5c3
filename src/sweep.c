/*
 * sweep.c - removing the temporary files of writers that died.
 *
 * Every writer holds an flock() on its temporary file for as long as it
 * lives; the kernel drops it when the writer dies, however it dies.  So a
 * temporary file whose lock can be taken belongs to nobody, and one whose
 * lock is held belongs to a live writer and is left alone.
 */
#include "internal.h"
#include "sys.h"

#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* Removes name if it is an unlocked regular temporary file of ours.
 * Returns 1 if removed, 0 if left, -1 on error. */
static int sweep_one(int dirfd, const char *name)
{
	int fd = aw__openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	                    O_CLOEXEC | O_NOCTTY, 0);
	if (fd < 0) {
		/* Gone already (another sweeper, or its writer committed),
		 * a symbolic link, or not ours to read: leave it. */
		if (errno == ENOENT || errno == ELOOP || errno == EACCES ||
		    errno == EPERM || errno == ENXIO || errno == EWOULDBLOCK)
			return 0;
		return -1;
	}
	int result = 0;
	struct stat st, now;
	if (aw__fstat(fd, &st) < 0) {
		result = -1;
		goto out;
	}
	if (!S_ISREG(st.st_mode))
		goto out;
	if (aw__flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			result = -1;
		goto out;
	}
	/* Locked: no writer owns it.  Remove it only if the name still
	 * refers to the file we hold. */
	if (aw__fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			result = -1;
		goto out;
	}
	if (now.st_dev != st.st_dev || now.st_ino != st.st_ino)
		goto out;
	if (aw__unlinkat(dirfd, name, 0) < 0) {
		if (errno != ENOENT)
			result = -1;
		goto out;
	}
	result = 1;
out:
	aw__close(fd);
	return result;
}

/* Whether a version of link is one the link keeps: the one it points at
 * (by device and inode, however the link spells it), or among the newest
 * `keep` versions older than that (keep as the live version's publisher
 * asked).  Only complete versions of ours count (aw__list_versions()). */
static int version_kept(int dirfd, const char *link, uint64_t stamp)
{
	struct aw__version live;
	int r = aw__live_version(dirfd, link, &live);
	if (r <= 0)
		return r;
	if (stamp == live.stamp)
		return 1;
	if (stamp > live.stamp)
		return 0;   /* built, never switched to, or rolled back from */
	struct aw__version *v;
	size_t n;
	if (aw__list_versions(dirfd, link, &v, &n) < 0)
		return -1;
	unsigned newer = 0;   /* versions between this one and the live one */
	for (size_t i = 0; i < n; i++)
		newer += v[i].stamp > stamp && v[i].stamp < live.stamp;
	free(v);
	return newer < live.keep;
}

/* Removes a dead publisher's half-built version: only a real directory
 * of ours that no live publisher holds (its flock can be taken) and that
 * the name still refers to.  Returns 1 if removed, 0 if left, -1. */
static int sweep_building(int dirfd, const char *name)
{
	int fd = aw__openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	                    O_CLOEXEC, 0);
	if (fd < 0)
		return errno == ENOENT || errno == ELOOP || errno == ENOTDIR ||
		       errno == EACCES ? 0 : -1;
	int result = 0;
	struct stat st;
	if (aw__fstat(fd, &st) < 0) {
		result = -1;
		goto out;
	}
	if (!aw__is_our_dir(&st))
		goto out;
	if (aw__flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			result = -1;
		goto out;
	}
	result = aw__remove_our_tree(dirfd, name, st.st_dev, st.st_ino) < 0 ? -1 : 1;
out:
	aw__close(fd);
	return result;
}

/* Removes name if it is a dead publisher's leftover.  Called with the
 * directory's lock held, so that no publisher is at work.  Returns 1 if
 * removed, 0 if left, -1 on error.  Nothing that is not a real directory
 * (or, for temporary links, a link) of ours is ever touched. */
static int sweep_publish_one(int dirfd, const char *name)
{
	struct stat st;
	if (aw__fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (aw__is_tmpname(name)) {
		/* Publishers' temporary links; temporary files are
		 * sweep_one()'s, directories are never ours to guess at. */
		if (!S_ISLNK(st.st_mode) || st.st_uid != geteuid())
			return 0;
		if (aw__unlinkat(dirfd, name, 0) < 0)
			return errno == ENOENT ? 0 : -1;
		return 1;
	}
	uint64_t stamp;
	unsigned keep;
	const char *link;
	if (!aw__is_our_dir(&st))
		return 0;
	if (aw__parse_building(name, &stamp, &keep, &link))
		return sweep_building(dirfd, name);
	if (!aw__parse_version(name, &stamp, &keep, &link))
		return 0;
	int kept = version_kept(dirfd, link, stamp);
	if (kept != 0)
		return kept < 0 ? -1 : 0;
	return aw__remove_our_tree(dirfd, name, st.st_dev, st.st_ino) < 0 ? -1 : 1;
}

/* What dead publishers leave, removed only while the directory's lock
 * (the one publishers hold) is free; otherwise left for a later sweep. */
static int sweep_publish_leftovers(int dirfd, aw_sweep_fn fn, void *ctx,
                                   int *removed, char *failed, size_t size)
{
	if (aw__flock(dirfd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? 0 : -1;
	DIR *d = aw__opendirat(dirfd);
	if (!d)
		return -1;
	int err = 0;
	for (;;) {
		struct dirent *de = aw__readdir(d);
		if (!de) {
			if (errno && !err)
				err = errno;
			break;
		}
		if (!aw__is_tmpname(de->d_name) &&
		    strncmp(de->d_name, AW__VER_PREFIX, AW__VER_PREFIX_LEN) != 0 &&
		    strncmp(de->d_name, AW__BLD_PREFIX, AW__VER_PREFIX_LEN) != 0)
			continue;
		int r = sweep_publish_one(dirfd, de->d_name);
		if (r < 0 && !err) {
			err = errno;
			snprintf(failed, size, "%s", de->d_name);
		}
		if (r > 0) {
			(*removed)++;
			if (fn)
				fn(de->d_name, ctx);
		}
	}
	closedir(d);
	aw__flock(dirfd, LOCK_UN);
	errno = err;
	return err ? -1 : 0;
}

int aw_sweep_at(int dirfd, aw_sweep_fn fn, void *ctx, aw_error *e)
{
	int fd = aw__openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0)
		return aw__fail(e, AW_STEP_SWEEP, ".", errno);
	/* readdir needs its own descriptor; fd stays for the *at calls. */
	int dfd = aw__openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		int err = errno;
		if (dfd >= 0)
			aw__close(dfd);
		aw__close(fd);
		return aw__fail(e, AW_STEP_SWEEP, ".", err);
	}
	int removed = 0, err = 0;
	char failed[NAME_MAX + 1] = ".";
	for (;;) {
		struct dirent *de = aw__readdir(d);
		if (!de) {
			if (errno)
				err = errno;
			break;
		}
		if (!aw__is_tmpname(de->d_name))
			continue;
		int r = sweep_one(fd, de->d_name);
		if (r < 0 && !err) {
			/* Keep going: one stuck file must not shield the
			 * rest.  Report the first failure. */
			err = errno;
			snprintf(failed, sizeof failed, "%s", de->d_name);
		}
		if (r > 0) {
			removed++;
			if (fn)
				fn(de->d_name, ctx);
		}
	}
	closedir(d);
	if (sweep_publish_leftovers(fd, fn, ctx, &removed, failed, sizeof failed) < 0 &&
	    !err)
		err = errno;
	aw__close(fd);
	if (err)
		return aw__fail(e, AW_STEP_SWEEP, failed, err);
	return removed;
}

int aw_sweep(const char *path, aw_sweep_fn fn, void *ctx, aw_error *e)
{
	if (!path)
		return aw__fail(e, AW_STEP_ARGS, NULL, EINVAL);
	int fd = aw__openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0)
		return aw__fail(e, AW_STEP_SWEEP, path, errno);
	int r = aw_sweep_at(fd, fn, ctx, e);
	int err = errno;
	aw__close(fd);
	if (r < 0 && e && e->path[0] == '.' && e->path[1] == '\0')
		snprintf(e->path, sizeof e->path, "%s", path);
	errno = err;
	return r;
}
