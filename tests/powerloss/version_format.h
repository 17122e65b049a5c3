/* SPDX-License-Identifier: MIT */
/*
 * version_format.h - how a power-loss workload file describes itself, shared
 * by the writer (workload.c), the checker (check.c) and the checker's
 * self-test (check_selftest.c), so that the three cannot drift apart.
 *
 * A file is one header followed by `length` bytes of body; `checksum` is the
 * FNV-1a hash of the body.  A complete version is exactly that many bytes
 * with a matching checksum; anything else is torn, empty or zero-filled.
 */
#ifndef AW_POWERLOSS_VERSION_FORMAT_H
#define AW_POWERLOSS_VERSION_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define NFILES 8                 /* file0 .. file7 */
#define VERSION_MAGIC "awpl-v1"  /* 8 bytes with its NUL */

struct header {
	char magic[8];
	uint32_t file, pad;
	uint64_t version, length, checksum;
};

static inline uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

#endif
