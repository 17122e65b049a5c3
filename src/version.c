/* SPDX-License-Identifier: MIT */
/*
 * version.c - the names of version directories and what a link points at.
 *
 * A version's name carries everything a later publisher or a sweep needs
 * without any other state: which link it belongs to, its age (names sort
 * by it) and how many older versions its publisher asked to keep.  The
 * name alone proves nothing: a version is also a real directory (lstat,
 * never through a link) owned by the caller's euid, and it has its
 * ".awver-" name only once complete (it is built as ".awbld-").
 */
#include "internal.h"
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

static int format_name(char *buf, const char *prefix, const char *link,
                       uint64_t stamp, unsigned keep)
{
	if (keep > AW__MAX_KEEP)
		keep = AW__MAX_KEEP;
	int n = snprintf(buf, NAME_MAX + 1, "%s%020" PRIu64 "-k%u-%s",
	                 prefix, stamp, keep, link);
	if (n < 0 || n > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int aw__version_name(char *buf, const char *link, uint64_t stamp, unsigned keep)
{
	return format_name(buf, AW__VER_PREFIX, link, stamp, keep);
}

int aw__building_name(char *buf, const char *link, uint64_t stamp, unsigned keep)
{
	return format_name(buf, AW__BLD_PREFIX, link, stamp, keep);
}

static bool parse_name(const char *name, const char *prefix, uint64_t *stamp,
                       unsigned *keep, const char **link)
{
	if (strncmp(name, prefix, AW__VER_PREFIX_LEN) != 0)
		return false;
	const char *p = name + AW__VER_PREFIX_LEN;
	uint64_t s = 0;
	for (int i = 0; i < AW__VER_DIGITS; i++, p++) {
		if (*p < '0' || *p > '9')
			return false;
		s = s * 10 + (uint64_t)(*p - '0');
	}
	if (p[0] != '-' || p[1] != 'k')
		return false;
	p += 2;
	unsigned k = 0;
	int digits = 0;
	for (; *p >= '0' && *p <= '9' && digits < 4; p++, digits++)
		k = k * 10 + (unsigned)(*p - '0');
	if (digits == 0 || *p != '-' || p[1] == '\0')
		return false;
	*stamp = s;
	*keep = k;
	*link = p + 1;
	return true;
}

bool aw__parse_version(const char *name, uint64_t *stamp, unsigned *keep,
                       const char **link)
{
	return parse_name(name, AW__VER_PREFIX, stamp, keep, link);
}

bool aw__parse_building(const char *name, uint64_t *stamp, unsigned *keep,
                        const char **link)
{
	return parse_name(name, AW__BLD_PREFIX, stamp, keep, link);
}

bool aw__is_our_dir(const struct stat *st)
{
	return S_ISDIR(st->st_mode) && st->st_uid == geteuid();
}

static int by_stamp(const void *a, const void *b)
{
	const struct aw__version *x = a, *y = b;
	return x->stamp < y->stamp ? -1 : x->stamp > y->stamp;
}

int aw__list_versions(int dirfd, const char *link, struct aw__version **out,
                      size_t *n)
{
	DIR *d = aw__opendirat(dirfd);
	if (!d)
		return -1;
	struct aw__version *v = NULL;
	size_t count = 0, cap = 0;
	int err = 0;
	for (;;) {
		struct dirent *de = aw__readdir(d);
		if (!de) {
			err = errno;
			break;
		}
		uint64_t stamp;
		unsigned keep;
		const char *owner;
		if (!aw__parse_version(de->d_name, &stamp, &keep, &owner) ||
		    strcmp(owner, link) != 0)
			continue;
		/* The name is not enough: a version is a real directory of
		 * ours.  A symbolic link, a file or another user's directory
		 * with a version's name (planted in a sticky directory, say)
		 * is not one, and is never served, counted or removed. */
		struct stat st;
		if (aw__fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			err = errno;
			break;
		}
		if (!aw__is_our_dir(&st))
			continue;
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct aw__version *nv = realloc(v, ncap * sizeof *v);
			if (!nv) {
				err = ENOMEM;
				break;
			}
			v = nv;
			cap = ncap;
		}
		v[count].stamp = stamp;
		v[count].keep = keep;
		v[count].dev = st.st_dev;
		v[count].ino = st.st_ino;
		snprintf(v[count].name, sizeof v[count].name, "%s", de->d_name);
		count++;
	}
	closedir(d);
	if (err) {
		free(v);
		errno = err;
		return -1;
	}
	if (count > 1)
		qsort(v, count, sizeof *v, by_stamp);
	*out = v;
	*n = count;
	return 0;
}

int aw__live_version(int dirfd, const char *link, struct aw__version *v)
{
	struct stat lst, st;
	if (aw__fstatat(dirfd, link, &lst, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISLNK(lst.st_mode))
		return 0;
	/* What the link resolves to, not how its target is spelled
	 * ("./.awver-...", an absolute path, a path through another
	 * directory): only stat, nothing is opened through it. */
	if (aw__fstatat(dirfd, link, &st, 0) < 0)
		return (errno == ENOENT || errno == ELOOP || errno == ENOTDIR ||
		        errno == EACCES) ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return 0;
	struct aw__version *all;
	size_t n;
	if (aw__list_versions(dirfd, link, &all, &n) < 0)
		return -1;
	int found = 0;
	for (size_t i = 0; i < n && !found; i++) {
		if (all[i].dev == st.st_dev && all[i].ino == st.st_ino) {
			*v = all[i];
			found = 1;
		}
	}
	free(all);
	return found;
}
