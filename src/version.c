/*
 * version.c - the names of version directories and what a link points at.
 *
 * A version's name carries everything a later publisher or a sweep needs
 * without any other state: which link it belongs to, its age (names sort
 * by it) and how many older versions its publisher asked to keep.
 */
#include "internal.h"
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int aw__version_name(char *buf, const char *link, uint64_t stamp, unsigned keep)
{
	if (keep > AW__MAX_KEEP)
		keep = AW__MAX_KEEP;
	int n = snprintf(buf, NAME_MAX + 1, AW__VER_PREFIX "%020" PRIu64 "-k%u-%s",
	                 stamp, keep, link);
	if (n < 0 || n > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

bool aw__parse_version(const char *name, uint64_t *stamp, unsigned *keep,
                       const char **link)
{
	if (strncmp(name, AW__VER_PREFIX, AW__VER_PREFIX_LEN) != 0)
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
	char target[NAME_MAX + 2];
	ssize_t len = aw__readlinkat(dirfd, link, target, sizeof target);
	if (len < 0)
		return (errno == ENOENT || errno == EINVAL) ? 0 : -1;
	if ((size_t)len > NAME_MAX)
		return 0;
	target[len] = '\0';
	const char *owner;
	/* Only a link to a sibling version of its own counts: a link to
	 * anything else is not ours to manage. */
	if (!aw__parse_version(target, &v->stamp, &v->keep, &owner) ||
	    strcmp(owner, link) != 0)
		return 0;
	memcpy(v->name, target, (size_t)len + 1);
	return 1;
}
