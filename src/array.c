/* SPDX-License-Identifier: MIT */
/*
 * array.c - the arrays the library grows as it goes (a batch's files,
 * directories and locks, the names a sweep lists, a link's versions):
 * one doubling rule, one overflow check.
 */
#include "internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

void *aw__grow(void *p, size_t n, size_t *cap, size_t size, size_t first)
{
	if (n < *cap)
		return p;
	size_t ncap = *cap ? *cap * 2 : first;
	if (ncap < *cap || ncap > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	void *q = realloc(p, ncap * size);
	if (!q) {
		errno = ENOMEM;
		return NULL;
	}
	*cap = ncap;
	return q;
}
