/*
 * tree.c - whole directory trees: copying one into a new version,
 * flushing one to disk bottom-up, and removing one.  None of them follows
 * a symbolic link: every entry is opened with O_NOFOLLOW relative to its
 * parent's descriptor, so a link planted in a tree cannot lead a walk out
 * of it.
 */
#include "internal.h"
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

static bool is_dot(const char *name)
{
	return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/* The entry's type from readdir, or from fstatat where the filesystem
 * does not say. */
static int entry_type(int dirfd, const struct dirent *de, unsigned char *type)
{
	if (de->d_type != DT_UNKNOWN) {
		*type = de->d_type;
		return 0;
	}
	struct stat st;
	if (aw__fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	*type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG :
	        S_ISLNK(st.st_mode) ? DT_LNK : DT_UNKNOWN;
	return 0;
}

int aw__remove_tree(int dirfd, const char *name)
{
	int fd = aw__openat(dirfd, name, DIR_FLAGS, 0);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		/* Not a directory (or a link to one): just the name.  A
		 * directory that cannot be opened may still be empty (a
		 * version that failed before it was filled). */
		int err = errno;
		if (err != ENOTDIR && err != ELOOP) {
			if (aw__unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
				return 0;
			errno = err;
			return -1;
		}
		if (aw__unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return -1;
		return 0;
	}
	DIR *d = aw__opendirat(fd);
	int err = d ? 0 : errno;
	while (d) {
		struct dirent *de = aw__readdir(d);
		if (!de) {
			err = errno;
			break;
		}
		if (is_dot(de->d_name))
			continue;
		unsigned char type;
		int r = entry_type(fd, de, &type);
		if (r == 0 && type == DT_DIR)
			r = aw__remove_tree(fd, de->d_name);
		else if (r == 0 && aw__unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT)
			r = -1;
		if (r < 0 && !err)
			err = errno;   /* go on: remove as much as we can */
	}
	if (d)
		closedir(d);
	aw__close(fd);
	if (aw__unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && !err)
		err = errno;
	errno = err;
	return err ? -1 : 0;
}

int aw__sync_tree(int dirfd)
{
	DIR *d = aw__opendirat(dirfd);
	if (!d)
		return -1;
	int err = 0;
	for (;;) {
		struct dirent *de = aw__readdir(d);
		if (!de) {
			err = errno;
			break;
		}
		if (is_dot(de->d_name))
			continue;
		unsigned char type;
		if (entry_type(dirfd, de, &type) < 0) {
			err = errno;
			break;
		}
		if (type != DT_DIR && type != DT_REG)
			continue;  /* a symbolic link lives in its directory */
		int fd = aw__openat(dirfd, de->d_name, type == DT_DIR ? DIR_FLAGS :
		                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
		if (fd < 0) {
			err = errno;
			break;
		}
		int r = type == DT_DIR ? aw__sync_tree(fd) : aw__fsync(fd);
		if (r < 0)
			err = errno;
		aw__close(fd);
		if (err)
			break;
	}
	closedir(d);
	if (!err && aw__fsync(dirfd) < 0)
		err = errno;
	errno = err;
	return err ? -1 : 0;
}

/* Gives fd (the copy of an entry) the entry's owner (as root only), mode
 * and times. */
static int copy_attrs(int fd, const struct stat *st)
{
	if (geteuid() == 0 && aw__fchown(fd, st->st_uid, st->st_gid) < 0)
		return -1;
	if (aw__fchmod(fd, st->st_mode & 07777) < 0)
		return -1;
	const struct timespec times[2] = { st->st_atim, st->st_mtim };
	return aw__futimens(fd, times);
}

static int copy_file(int src, int dst, const char *name, const struct stat *st)
{
	int from = aw__openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (from < 0)
		return -1;
	int to = aw__openat(dst, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	                    O_CLOEXEC, 0600);
	if (to < 0) {
		int err = errno;
		aw__close(from);
		errno = err;
		return -1;
	}
	enum aw__copy_method how;
	aw_step step;
	int r = aw__copy_data(to, from, true, &how, &step);
	if (r == 0)
		r = copy_attrs(to, st);
	int err = errno;
	aw__close(from);
	aw__close(to);
	errno = err;
	return r;
}

static int copy_link(int src, int dst, const char *name, const struct stat *st)
{
	char target[4096];
	ssize_t n = aw__readlinkat(src, name, target, sizeof target);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof target) {
		errno = ENAMETOOLONG;
		return -1;
	}
	target[n] = '\0';
	if (aw__symlinkat(target, dst, name) < 0)
		return -1;
	if (geteuid() == 0 &&
	    aw__fchownat(dst, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	return 0;
}

/* rel holds the path of src relative to the tree's root (len bytes);
 * entries are appended to it for error messages. */
static int copy_dir(int src, int dst, char *rel, size_t len, size_t size)
{
	DIR *d = aw__opendirat(src);
	if (!d)
		return -1;
	int err = 0;
	for (;;) {
		struct dirent *de = aw__readdir(d);
		if (!de) {
			err = errno;
			break;
		}
		if (is_dot(de->d_name))
			continue;
		int n = snprintf(rel + len, size - len, "%s%s", len ? "/" : "",
		                 de->d_name);
		if (n < 0 || (size_t)n >= size - len) {
			err = ENAMETOOLONG;
			break;
		}
		struct stat st;
		int r = aw__fstatat(src, de->d_name, &st, AT_SYMLINK_NOFOLLOW);
		if (r < 0) {
			/* gone since readdir: nothing to copy */
			if (errno == ENOENT)
				continue;
		} else if (S_ISREG(st.st_mode)) {
			r = copy_file(src, dst, de->d_name, &st);
		} else if (S_ISLNK(st.st_mode)) {
			r = copy_link(src, dst, de->d_name, &st);
		} else if (S_ISDIR(st.st_mode)) {
			r = aw__mkdirat(dst, de->d_name, 0700);
			int from = r < 0 ? -1 : aw__openat(src, de->d_name, DIR_FLAGS, 0);
			int to = from < 0 ? -1 : aw__openat(dst, de->d_name, DIR_FLAGS, 0);
			r = to < 0 ? -1 : copy_dir(from, to, rel, len + (size_t)n, size);
			/* The mode comes last: a read-only source directory
			 * must still be filled first. */
			if (r == 0)
				r = copy_attrs(to, &st);
			int e = errno;
			if (from >= 0)
				aw__close(from);
			if (to >= 0)
				aw__close(to);
			errno = e;
		} else {
			/* FIFOs, sockets, devices: not something to publish. */
			errno = EINVAL;
			r = -1;
		}
		if (r < 0) {
			err = errno;
			break;
		}
		rel[len] = '\0';
	}
	closedir(d);
	errno = err;
	return err ? -1 : 0;
}

int aw__copy_tree(int src, int dst, char *failed_at, size_t size)
{
	failed_at[0] = '\0';
	return copy_dir(src, dst, failed_at, 0, size);
}
