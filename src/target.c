/* SPDX-License-Identifier: MIT */
/*
 * target.c - from what the caller named to (opened directory, final name):
 * splitting the path, opening the directory, following symbolic links when
 * asked.
 */
#include "internal.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Links followed at most, as the kernel's own limit for path lookup. */
#define AW__MAX_LINKS 40

/*
 * Splits path into its directory part (copied to dir, "." or "/" when it
 * has none) and its last component (pointed to by *base).  A path that
 * ends in a slash, or whose last component is "." or "..", names a
 * directory.
 */
static int split_path(const char *path, char *dir, size_t dirsize,
                      const char **base, aw_step *step)
{
	size_t len = strlen(path);
	*step = AW_STEP_ARGS;
	if (len == 0)
		return ENOENT;
	if (path[len - 1] == '/') {
		*step = AW_STEP_TARGET_TYPE;
		return EISDIR;
	}
	const char *slash = strrchr(path, '/');
	const char *b = slash ? slash + 1 : path;
	if (strcmp(b, ".") == 0 || strcmp(b, "..") == 0) {
		*step = AW_STEP_TARGET_TYPE;
		return EISDIR;
	}
	if (strlen(b) > NAME_MAX)
		return ENAMETOOLONG;
	if (!slash) {
		strcpy(dir, ".");
	} else if (slash == path) {
		strcpy(dir, "/");
	} else {
		size_t n = (size_t)(slash - path);
		if (n >= dirsize)
			return ENAMETOOLONG;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	*base = b;
	return 0;
}

bool aw__sticky_protected(const struct stat *dir, uid_t owner)
{
	if ((dir->st_mode & (S_ISVTX | S_IWOTH)) != (S_ISVTX | S_IWOTH))
		return false;
	uid_t me = geteuid();
	return owner != me && owner != dir->st_uid;
}

/*
 * Whether the link name in dirfd may be followed: the rule of the
 * kernel's fs.protected_symlinks, applied whatever the sysctl says.  In a
 * sticky world-writable directory (/tmp) anyone can plant a link under a
 * name another user will use; such a link is followed only if it belongs
 * to the follower or to the directory's owner.  Otherwise EACCES, which is
 * what the kernel answers.
 *
 * The owner is looked at before the link is read and checked again after
 * (same inode), so the text followed is that of the link judged: in such
 * a directory nobody but its owner can replace a link they do not own,
 * and a link's text never changes.
 */
static int may_follow(int dirfd, const char *name, struct stat *before)
{
	if (aw__fstatat(dirfd, name, before, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	/* Our own links need no look at the directory. */
	if (!S_ISLNK(before->st_mode) || before->st_uid == geteuid())
		return 0;
	struct stat dir;
	if (aw__fstat(dirfd, &dir) < 0)
		return -1;
	if (aw__sticky_protected(&dir, before->st_uid)) {
		errno = EACCES;
		return -1;
	}
	return 0;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int aw__open_parent(int at, const char *path, char *name,
                       const char *display, aw_step open_step, aw_error *e)
{
	char *dir = malloc(PATH_MAX);
	if (!dir)
		return aw__fail(e, open_step, display, ENOMEM);
	const char *base;
	aw_step step;
	int err = split_path(path, dir, PATH_MAX, &base, &step);
	if (err) {
		free(dir);
		return aw__fail(e, step, display, err);
	}
	int fd = aw__openat(at, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	err = errno;
	free(dir);
	if (fd < 0)
		return aw__fail(e, open_step, display, err);
	strcpy(name, base);
	return fd;
}

int aw__open_target(struct aw_file *f, int dirfd, const char *path,
                    aw_error *e)
{
	f->dirfd = aw__open_parent(dirfd, path, f->name, f->path,
	                       AW_STEP_OPEN_DIR, e);
	if (f->dirfd < 0)
		return -1;
	if (!(f->opts.flags & AW_FOLLOW_SYMLINKS))
		return 0;

	char *link = malloc(PATH_MAX);
	if (!link)
		return aw__fail(e, AW_STEP_RESOLVE_LINK, f->path, ENOMEM);
	for (int depth = 0;; depth++) {
		struct stat before, after;
		if (may_follow(f->dirfd, f->name, &before) < 0) {
			/* ENOENT: nothing there yet: the file to create. */
			if (errno == ENOENT)
				break;
			goto fail_errno;
		}
		/* Not a link: this is the file to write. */
		if (!S_ISLNK(before.st_mode))
			break;
		if (depth >= AW__MAX_LINKS) {
			errno = ELOOP;
			goto fail_errno;
		}
		ssize_t n = aw__readlinkat(f->dirfd, f->name, link, PATH_MAX);
		if (n < 0) {
			/* EINVAL: no longer a link; ENOENT: gone.  Either
			 * way this is the file to write. */
			if (errno == EINVAL || errno == ENOENT)
				break;
			goto fail_errno;
		}
		/* Replaced between the look and the read: what was read is
		 * not what was judged.  Look again. */
		if (aw__fstatat(f->dirfd, f->name, &after, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			goto fail_errno;
		}
		if (!same_file(&before, &after))
			continue;   /* counts as a hop: bounded by the limit */
		if (n >= PATH_MAX) {
			errno = ENAMETOOLONG;
			goto fail_errno;
		}
		link[n] = '\0';
		/* A relative link is relative to the directory it is in. */
		int at = link[0] == '/' ? AT_FDCWD : f->dirfd;
		int next = aw__open_parent(at, link, f->name, f->path,
		                       AW_STEP_RESOLVE_LINK, e);
		if (next < 0) {
			free(link);
			return -1;
		}
		aw__close(f->dirfd);
		f->dirfd = next;
	}
	free(link);
	return 0;

fail_errno:;
	int err = errno;
	free(link);
	return aw__fail(e, AW_STEP_RESOLVE_LINK, f->path, err);
}
