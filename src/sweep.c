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
		errno = 0;
		struct dirent *de = readdir(d);
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
