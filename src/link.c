/* SPDX-License-Identifier: MIT */
/*
 * link.c - replacing a symbolic link and exchanging two paths, each in
 * one atomic step, made durable by fsyncing the parents.
 */
#include "internal.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

int aw_link_set(const char *target, const char *linkpath, aw_error *e)
{
	if (!target || !linkpath || !*target)
		return aw__fail(e, AW_STEP_ARGS, linkpath, EINVAL);
	char name[NAME_MAX + 1], tmp[NAME_MAX + 1];
	int dirfd = aw__open_parent(AT_FDCWD, linkpath, name, linkpath,
	                            AW_STEP_OPEN_DIR, e);
	if (dirfd < 0)
		return AW_FAILED;
	int result = AW_FAILED, lockfd = -1;
	bool made = false;
	/* The parent's lock keeps a concurrent sweep from taking the
	 * temporary link for a dead publisher's. */
	if (aw__lock(dirfd, &lockfd) < 0) {
		aw__fail(e, AW_STEP_LOCK, linkpath, errno);
		goto out;
	}
	struct stat st;
	if (aw__fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode)) {
		aw__fail(e, AW_STEP_TARGET_TYPE, linkpath, EISDIR);
		goto out;
	}
	long name_max = aw__name_max(dirfd);
	if (name_max <= 0 || name_max > NAME_MAX)
		name_max = NAME_MAX;
	for (int tries = 0; tries < 100 && !made; tries++) {
		if (aw__tmpname(tmp, name, name_max) < 0) {
			aw__fail(e, AW_STEP_MAKE_LINK, linkpath, errno);
			goto out;
		}
		if (aw__symlinkat(target, dirfd, tmp) == 0)
			made = true;
		else if (errno != EEXIST) {
			aw__fail(e, AW_STEP_MAKE_LINK, linkpath, errno);
			goto out;
		}
	}
	if (!made) {
		aw__fail(e, AW_STEP_MAKE_LINK, linkpath, EEXIST);
		goto out;
	}
	if (aw__renameat(dirfd, tmp, dirfd, name) < 0) {
		aw__fail(e, AW_STEP_SWITCH_LINK, linkpath, errno);
		goto out;
	}
	made = false;
	result = AW_OK;
	if (aw__fsync(dirfd) < 0) {
		aw__fail(e, AW_STEP_SYNC_DIR, linkpath, errno);
		result = AW_UNSYNCED;
	}
out:
	if (made)
		aw__unlinkat(dirfd, tmp, 0);
	aw__unlock(dirfd, lockfd);
	aw__close(dirfd);
	return result;
}

static bool same_dir(int a, int b)
{
	struct stat sa, sb;
	return aw__fstat(a, &sa) == 0 && aw__fstat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int aw_path_exchange(const char *path1, const char *path2, aw_error *e)
{
	char both[4096];
	char name1[NAME_MAX + 1], name2[NAME_MAX + 1];
	if (!path1 || !path2)
		return aw__fail(e, AW_STEP_ARGS, path1, EINVAL);
	int n = snprintf(both, sizeof both, "%s and %s", path1, path2);
	if (n < 0 || (size_t)n >= sizeof both)
		both[sizeof both - 1] = '\0';
	int d1 = aw__open_parent(AT_FDCWD, path1, name1, path1, AW_STEP_OPEN_DIR, e);
	if (d1 < 0)
		return AW_FAILED;
	int d2 = aw__open_parent(AT_FDCWD, path2, name2, path2, AW_STEP_OPEN_DIR, e);
	if (d2 < 0) {
		aw__close(d1);
		return AW_FAILED;
	}
	int result = AW_FAILED;
	if (aw__exchangeat(d1, name1, d2, name2) < 0) {
		/* EINVAL and ENOSYS are how the kernel or the filesystem says
		 * it has no exchange (or that one path contains the other). */
		int err = errno == ENOSYS ? EOPNOTSUPP : errno;
		aw__fail(e, AW_STEP_EXCHANGE, both, err);
		goto out;
	}
	result = AW_OK;
	if (aw__fsync(d1) < 0 || (!same_dir(d1, d2) && aw__fsync(d2) < 0)) {
		aw__fail(e, AW_STEP_SYNC_DIR, both, errno);
		result = AW_UNSYNCED;
	}
out:
	aw__close(d1);
	aw__close(d2);
	return result;
}
