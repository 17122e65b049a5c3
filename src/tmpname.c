/* SPDX-License-Identifier: MIT */
/*
 * tmpname.c - names of temporary files: unpredictable, provably ours, and
 * short enough for the directory's NAME_MAX.
 *
 * A temporary file's name carries its own inode number (the layout is in
 * internal.h).  A name can be copied by anyone; a name whose number is the
 * inode it refers to was given by someone who held that inode when naming
 * it: a writer of ours.  An editor's swap file beside a scratch copy
 * (".awtmp-...-f.swp"), a file renamed over a scratch copy, a file planted
 * under a guessed name: none is the inode its name spells, and aw_dir_sweep()
 * leaves them all.  Every temporary file the library names gets its name
 * here, once its inode is known, and every "create under a fresh
 * temporary name" goes through aw__fresh_name(): one retry rule, one
 * name-length rule.  What is done under the name (create, link, rename)
 * is tempfile.c's.
 */
#include "internal.h"
#include "sys.h"

#include <errno.h>
#include <string.h>

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static bool is_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9');
}

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void random_letters(char *p, size_t n)
{
	unsigned char rnd[32];
	while (n > 0) {
		size_t k = n < sizeof rnd ? n : sizeof rnd;
		aw__random(rnd, k);
		for (size_t i = 0; i < k; i++)
			*p++ = alphabet[rnd[i] % (sizeof alphabet - 1)];
		n -= k;
	}
}

/* Appends as much of target as fits room bytes at p, never cutting a
 * UTF-8 sequence (some filesystems refuse a broken one), and ends it. */
static void put_target(char *p, const char *target, size_t room)
{
	/* The target's name is only there to tell a human whose leftover
	 * this is. */
	size_t len = strlen(target);
	if (len > room) {
		len = room;
		while (len > 0 && ((unsigned char)target[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(p, target, len);
	p[len] = '\0';
}

int aw__tmpname(char *buf, const char *target, long name_max)
{
	if (name_max > NAME_MAX)
		name_max = NAME_MAX;
	if (name_max < AW__TMP_FIXED_LEN + 1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	char *p = buf;
	memcpy(p, AW__TMP_PREFIX, AW__TMP_PREFIX_LEN);
	p += AW__TMP_PREFIX_LEN;
	random_letters(p, AW__RAND_LEN);
	p += AW__RAND_LEN;
	*p++ = '-';
	put_target(p, target, (size_t)name_max - AW__TMP_FIXED_LEN);
	return 0;
}

void aw__random_tag(char *tag)
{
	random_letters(tag, AW__TAG_LEN);
	tag[AW__TAG_LEN] = '\0';
}

int aw__tmpname_marked(char *buf, const char *target, uint64_t ino,
                       const char *tag, long name_max)
{
	if (name_max > NAME_MAX)
		name_max = NAME_MAX;
	if (name_max < AW__MARKED_FIXED_LEN + (target[0] ? 1 : 0)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	char *p = buf;
	memcpy(p, AW__TMP_PREFIX, AW__TMP_PREFIX_LEN);
	p += AW__TMP_PREFIX_LEN;
	for (int i = AW__INO_LEN - 1; i >= 0; i--) {
		p[i] = "0123456789abcdef"[ino & 0xF];
		ino >>= 4;
	}
	p += AW__INO_LEN;
	*p++ = '-';
	if (tag && tag[0])
		memcpy(p, tag, AW__TAG_LEN);
	else
		random_letters(p, AW__TAG_LEN);
	p += AW__TAG_LEN;
	*p++ = '-';
	put_target(p, target, (size_t)name_max - AW__MARKED_FIXED_LEN);
	return 0;
}

int aw__parse_tmpname(const char *name, struct aw__tmpname_parts *parts)
{
	if (strncmp(name, AW__TMP_PREFIX, AW__TMP_PREFIX_LEN) != 0)
		return AW__TMP_NONE;
	const char *r = name + AW__TMP_PREFIX_LEN;
	size_t i = 0;
	while (i < AW__INO_LEN && is_lower_hex(r[i]))
		i++;
	if (i == AW__INO_LEN && r[i] == '-') {
		const char *t = r + AW__INO_LEN + 1;
		size_t k = 0;
		while (k < AW__TAG_LEN && is_alnum(t[k]))
			k++;
		if (k == AW__TAG_LEN && t[k] == '-') {
			if (parts) {
				uint64_t ino = 0;
				for (size_t j = 0; j < AW__INO_LEN; j++)
					ino = ino << 4 | (uint64_t)(r[j] <= '9' ? r[j] - '0'
					                                        : r[j] - 'a' + 10);
				parts->ino = ino;
				memcpy(parts->tag, t, AW__TAG_LEN);
				parts->tag[AW__TAG_LEN] = '\0';
				parts->target = t + AW__TAG_LEN + 1;
			}
			return AW__TMP_MARKED;
		}
	}
	for (i = 0; i < AW__RAND_LEN; i++)
		if (!is_alnum(r[i]))
			return AW__TMP_NONE;
	if (r[AW__RAND_LEN] != '-')
		return AW__TMP_NONE;
	if (parts) {
		parts->ino = 0;
		parts->tag[0] = '\0';
		parts->target = r + AW__RAND_LEN + 1;
	}
	return AW__TMP_UNMARKED;
}

bool aw__is_tmpname(const char *name)
{
	return aw__parse_tmpname(name, NULL) != AW__TMP_NONE;
}

/* The filesystem's NAME_MAX when a name of max bytes was too long (eCryptfs:
 * 143): a shorter limit to cut names to, or 0 if asking does not help. */
static long shorter_name_max(int dirfd, long *name_max)
{
	if (*name_max != NAME_MAX)
		return 0;
	long m = aw__name_max(dirfd);
	if (m > 0 && m < *name_max) {
		*name_max = m;
		return m;
	}
	return 0;
}

int aw__fresh_name(int dirfd, const struct aw__name_spec *spec, char *name,
                   aw__name_attempt *attempt, void *ctx)
{
	/* A marked name with a given tag (a batch's) is the same name at
	 * every try: taken is final. */
	bool fixed = spec->marked && spec->tag && spec->tag[0];
	long name_max = NAME_MAX;
	int err = EEXIST;
	for (int tries = 0; tries < AW__NAME_TRIES; tries++) {
		int r = spec->marked
			? aw__tmpname_marked(name, spec->target, spec->ino,
			                     spec->tag, name_max)
			: aw__tmpname(name, spec->target, name_max);
		if (r == 0)
			r = attempt(dirfd, name, ctx);
		if (r == 0)
			return 0;
		if (r > 0 && !fixed)
			continue;   /* taken: another random part */
		err = r > 0 ? EEXIST : errno;
		if (r < 0 && err == ENAMETOOLONG && shorter_name_max(dirfd, &name_max))
			continue;
		break;
	}
	name[0] = '\0';
	errno = err;
	return -1;
}
