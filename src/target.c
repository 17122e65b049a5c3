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
		ssize_t n = aw__readlinkat(f->dirfd, f->name, link, PATH_MAX);
		if (n < 0) {
			/* EINVAL: not a link; ENOENT: nothing there yet.
			 * Either way this is the file to write. */
			if (errno == EINVAL || errno == ENOENT)
				break;
			goto fail_errno;
		}
		if (n >= PATH_MAX) {
			errno = ENAMETOOLONG;
			goto fail_errno;
		}
		if (depth == AW__MAX_LINKS) {
			errno = ELOOP;
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
