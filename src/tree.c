/* SPDX-License-Identifier: MIT */
/*
 * tree.c - whole directory trees: copying one into a new version,
 * flushing one to disk bottom-up, and removing one.  None of them follows
 * a symbolic link: every entry is opened with O_NOFOLLOW relative to its
 * parent's descriptor, so a link planted in a tree cannot lead a walk out
 * of it.  Copies judge each entry by the descriptor they opened, never
 * waiting on one (O_NONBLOCK), and never open a FIFO, socket or device.
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

/* Opens directory name in dirfd for removing what it holds.  A directory
 * of ours that we may not read (mode 0000, 0300) is given back its
 * owner's bits first: a non-root publisher must be able to remove the
 * trees it made. */
static int open_for_removal(int dirfd, const char *name)
{
	int fd = aw__openat(dirfd, name, DIR_FLAGS, 0);
	if (fd >= 0 || errno != EACCES || geteuid() == 0)
		return fd;
	struct stat st;
	if (aw__fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !aw__is_our_dir(&st) ||
	    aw__fchmodat_nofollow(dirfd, name, (st.st_mode & 07777) | 0700) < 0) {
		errno = EACCES;
		return -1;
	}
	return aw__openat(dirfd, name, DIR_FLAGS, 0);
}

/* Removes one entry of dirfd (a directory: its tree); goes on past a
 * failure, keeping the first errno in *first. */
static int remove_entry(int dirfd, const struct dirent *de, void *ctx)
{
	int *first = ctx;
	unsigned char type;
	int r = entry_type(dirfd, de, &type);
	if (r == 0 && type == DT_DIR)
		r = aw__remove_tree(dirfd, de->d_name);
	else if (r == 0 && aw__unlinkat(dirfd, de->d_name, 0) < 0 && errno != ENOENT)
		r = -1;
	if (r < 0 && !*first)
		*first = errno;   /* go on: remove as much as we can */
	return 0;
}

/* Removes everything in the opened directory fd; the first error is kept
 * (its own errno: the EACCES of an entry that cannot go, not the
 * ENOTEMPTY its parent's rmdir then meets). */
static int remove_contents(int fd)
{
	/* Entries of a directory of ours that we may not write (mode
	 * 0555, as copied from a read-only source directory) can only go
	 * once it is writable again. */
	struct stat st;
	if (geteuid() != 0 && aw__fstat(fd, &st) == 0 && aw__is_our_dir(&st) &&
	    (st.st_mode & 0700) != 0700)
		aw__fchmod(fd, (st.st_mode & 07777) | 0700);   /* else the unlinks say why */
	int err = 0;
	if (aw__dir_walk(fd, remove_entry, &err) < 0)
		err = errno;
	errno = err;
	return err ? -1 : 0;
}

int aw__remove_tree(int dirfd, const char *name)
{
	int fd = open_for_removal(dirfd, name);
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
	int err = remove_contents(fd) < 0 ? errno : 0;
	aw__close(fd);
	if (aw__unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && !err)
		err = errno;
	errno = err;
	return err ? -1 : 0;
}

int aw__remove_our_tree(int dirfd, const char *name, dev_t dev, ino_t ino)
{
	int fd = open_for_removal(dirfd, name);
	if (fd < 0)
		return errno == ENOENT || errno == ELOOP || errno == ENOTDIR ? 0 : -1;
	struct stat st;
	if (aw__fstat(fd, &st) < 0) {
		int err = errno;
		aw__close(fd);
		errno = err;
		return -1;
	}
	if (st.st_dev != dev || st.st_ino != ino || !aw__is_our_dir(&st)) {
		aw__close(fd);
		return 0;   /* not the directory listed: not ours to remove */
	}
	int err = remove_contents(fd) < 0 ? errno : 0;
	aw__close(fd);
	/* The name still refers to it: nobody else may rename in a
	 * directory whose entries we own unless it lets them write (and
	 * then they could have done anything); check once more anyway. */
	struct stat now;
	if (aw__fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT && !err)
			err = errno;
	} else if (now.st_dev == dev && now.st_ino == ino) {
		if (aw__unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && !err)
			err = errno;
	}
	errno = err;
	return err ? -1 : 0;
}

/* fsyncs one entry of dirfd: a regular file, or a directory's tree. */
static int sync_entry(int dirfd, const struct dirent *de, void *ctx)
{
	unsigned char type;
	(void)ctx;
	if (entry_type(dirfd, de, &type) < 0)
		return -1;
	if (type != DT_DIR && type != DT_REG)
		return 0;  /* a symbolic link lives in its directory */
	int fd = aw__openat(dirfd, de->d_name, type == DT_DIR ? DIR_FLAGS :
	                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int r = type == DT_DIR ? aw__sync_tree(fd) : aw__fsync(fd);
	int err = errno;
	aw__close(fd);
	errno = err;
	return r;
}

int aw__sync_tree(int dirfd)
{
	if (aw__dir_walk(dirfd, sync_entry, NULL) < 0)
		return -1;
	return aw__fsync(dirfd);
}

/* Gives fd (the copy of an entry) the entry's owner (as root only), mode
 * and times: st is the fstat of the descriptor the contents came from,
 * so one entry's attributes never go with another's contents. */
static int copy_attrs(int fd, const struct stat *st)
{
	if (geteuid() == 0 && aw__fchown(fd, st->st_uid, st->st_gid) < 0)
		return -1;
	if (aw__fchmod(fd, st->st_mode & 07777) < 0)
		return -1;
	const struct timespec times[2] = { AW__ST_ATIM(st), AW__ST_MTIM(st) };
	return aw__futimens(fd, times);
}

/* The end of copying into to (r: how the copy went): the attributes if
 * it went well, then to closed.  Keeps errno. */
static int finish_copy(int to, int r, const struct stat *st)
{
	if (r == 0)
		r = copy_attrs(to, st);
	int err = errno;
	aw__close(to);
	errno = err;
	return r;
}

/* from: the source file, opened; st: its fstat. */
static int copy_file(int from, int dst, const char *name, const struct stat *st)
{
	int to = aw__openat(dst, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	                    O_CLOEXEC, 0600);
	if (to < 0)
		return -1;
	enum aw__copy_method how;
	aw_step step;
	return finish_copy(to, aw__copy_data(to, from, true, &how, &step), st);
}

/* Copies the symbolic link name: its target and (as root) its owner,
 * both read from the link itself, pinned by an O_PATH descriptor where
 * there is one.  A name that is no longer a link by then was swapped
 * under us: EAGAIN, nothing guessed. */
static int copy_link(int src, int dst, const char *name)
{
	char target[4096];
	struct stat st;
	ssize_t n;
#if defined(O_PATH) && !defined(AW_FORCE_POSIX)
	int fd = aw__openat(src, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (aw__fstat(fd, &st) < 0) {
		int err = errno;
		aw__close(fd);
		errno = err;
		return -1;
	}
	n = S_ISLNK(st.st_mode) ? aw__readlinkat(fd, "", target, sizeof target) : 0;
	int err = errno;
	aw__close(fd);
	errno = err;
	if (!S_ISLNK(st.st_mode)) {
		errno = EAGAIN;
		return -1;
	}
#else
	struct stat after;
	if (aw__fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	n = aw__readlinkat(src, name, target, sizeof target);
	if (n >= 0 && (aw__fstatat(src, name, &after, AT_SYMLINK_NOFOLLOW) < 0 ||
	               !S_ISLNK(st.st_mode) || after.st_ino != st.st_ino ||
	               after.st_dev != st.st_dev)) {
		errno = EAGAIN;
		return -1;
	}
#endif
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
	    aw__fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	return 0;
}

static int copy_dir(int src, int dst, char *rel, size_t len, size_t size);

/* from: the source directory, opened; st: its fstat. */
static int copy_subdir(int from, int dst, const char *name, const struct stat *st,
                       char *rel, size_t len, size_t size)
{
	if (aw__mkdirat(dst, name, 0700) < 0)
		return -1;
	int to = aw__openat(dst, name, DIR_FLAGS, 0);
	if (to < 0)
		return -1;
	/* The mode comes last: a read-only source directory must still be
	 * filled first. */
	return finish_copy(to, copy_dir(from, to, rel, len, size), st);
}

/* Every entry is opened first (never following a link, never waiting:
 * O_NONBLOCK, so a FIFO swapped in cannot hang the publisher, who holds
 * the parent's lock) and judged on the opened descriptor's fstat: what is
 * copied, and with which mode, owner and times, is what was opened.  The
 * lstat before only keeps FIFOs, sockets and devices from being opened
 * at all. */
#define ENTRY_FLAGS (O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

static int copy_entry(int src, int dst, const char *name, char *rel,
                      size_t len, size_t size)
{
	struct stat st;
	if (aw__fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;   /* gone since readdir */
	if (S_ISLNK(st.st_mode))
		return copy_link(src, dst, name);
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		/* FIFOs, sockets, devices: not something to publish. */
		errno = EINVAL;
		return -1;
	}
	int fd = aw__openat(src, name, ENTRY_FLAGS, 0);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ELOOP)   /* a link now */
			return copy_link(src, dst, name);
		if (errno == ENXIO)   /* a socket or device now */
			errno = EINVAL;
		return -1;
	}
	int r = aw__fstat(fd, &st);
	if (r == 0) {
		if (S_ISREG(st.st_mode))
			r = copy_file(fd, dst, name, &st);
		else if (S_ISDIR(st.st_mode))
			r = copy_subdir(fd, dst, name, &st, rel, len, size);
		else {
			errno = EINVAL;   /* swapped for a FIFO or device */
			r = -1;
		}
	}
	int err = errno;
	aw__close(fd);
	errno = err;
	return r;
}

struct copy_walk {
	int dst;
	char *rel;      /* the path of src relative to the tree's root */
	size_t len, size;
};

static int copy_one(int src, const struct dirent *de, void *ctx)
{
	struct copy_walk *c = ctx;
	int n = snprintf(c->rel + c->len, c->size - c->len, "%s%s",
	                 c->len ? "/" : "", de->d_name);
	if (n < 0 || (size_t)n >= c->size - c->len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (copy_entry(src, c->dst, de->d_name, c->rel, c->len + (size_t)n,
	               c->size) < 0)
		return -1;   /* rel names the entry that failed */
	c->rel[c->len] = '\0';
	return 0;
}

/* rel holds the path of src relative to the tree's root (len bytes);
 * entries are appended to it for error messages. */
static int copy_dir(int src, int dst, char *rel, size_t len, size_t size)
{
	struct copy_walk c = { dst, rel, len, size };
	return aw__dir_walk(src, copy_one, &c);
}

int aw__copy_tree(int src, int dst, char *failed_at, size_t size)
{
	failed_at[0] = '\0';
	return copy_dir(src, dst, failed_at, 0, size);
}
