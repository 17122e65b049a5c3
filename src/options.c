/* SPDX-License-Identifier: MIT */
/*
 * options.c - the callers' option structs, copied into full internal ones.
 *
 * Each public options struct starts with its size (see OPTION STRUCTS in
 * atomicwrite.h).  Every entry point copies the caller's struct through
 * copy_sized() before reading a field, so that the rest of the library
 * works on a struct of the layout it was built with, whichever header
 * the caller was compiled against, and then checks the fields every
 * struct shares (durability, flags, mode) in one place.
 */
#include "internal.h"

#include <errno.h>
#include <string.h>

/* What size 0 stands for: each struct's size in 1.0.  When a struct
 * grows in 1.x its 1.0 size stays here (the offset of the first new
 * field) and sizeof grows. */
#define OPTIONS_1_0 sizeof(aw_options)
#define BATCH_OPTIONS_1_0 sizeof(aw_batch_options)
#define PUBLISH_OPTIONS_1_0 sizeof(aw_publish_options)

/* A struct this large is not one of ours with a sane size field: its
 * bytes are not read (the kernel's openat2() draws the line at a page). */
#define OPTIONS_MAX_SIZE 4096

/* Copies src (a caller's struct whose first member is its size; NULL:
 * the defaults) into dst, a zeroed struct of known bytes whose 1.0
 * layout was v1_0 bytes, and sets dst's size to known.  Returns 0, or
 * EINVAL (too small to be any layout) or E2BIG (bytes the library does
 * not know are set, or an absurd size). */
static int copy_sized(void *dst, size_t known, size_t v1_0, const void *src)
{
	memset(dst, 0, known);
	if (src) {
		size_t size;
		memcpy(&size, src, sizeof size);
		if (size == 0)
			size = v1_0;
		if (size < v1_0)
			return EINVAL;
		if (size > OPTIONS_MAX_SIZE)
			return E2BIG;
		const unsigned char *bytes = src;
		for (size_t i = known; i < size; i++)
			if (bytes[i] != 0)
				return E2BIG;
		memcpy(dst, src, size < known ? size : known);
	}
	memcpy(dst, &known, sizeof known);
	return 0;
}

/* The checks every struct shares: a durability of the enum, no flag
 * outside allowed, a mode only with its flag and only permission bits. */
static int check_common(aw_durability d, unsigned int flags,
                        unsigned int allowed, bool mode_flag, mode_t mode)
{
	if (d != AW_DURABILITY_FULL && d != AW_DURABILITY_FILE &&
	    d != AW_DURABILITY_NONE)
		return EINVAL;
	if ((flags & ~allowed) != 0)
		return EINVAL;
	if (mode_flag ? (mode & ~(mode_t)07777) != 0 : mode != 0)
		return EINVAL;
	return 0;
}

int aw__file_options(aw_options *o, const aw_options *given,
                     const char *path, aw_error *e)
{
	int err = copy_sized(o, sizeof *o, OPTIONS_1_0, given);
	if (!err)
		err = check_common(o->durability, o->flags,
		                   AW__ALL_FLAGS | AW__KEEP_FLAGS,
		                   o->flags & AW_MODE, o->mode);
	if (!err)
		err = aw__keep_options(o);
	return err ? aw__fail(e, AW_STEP_ARGS, path, err) : 0;
}

int aw__batch_options(aw_batch_options *o, const aw_batch_options *given,
                      aw_error *e)
{
	int err = copy_sized(o, sizeof *o, BATCH_OPTIONS_1_0, given);
	/* The directory lock is not for batches: entries sharing a
	 * directory would wait for each other. */
	if (!err)
		err = check_common(o->durability, o->flags,
		                   AW__ALL_FLAGS & ~(unsigned)AW_LOCK,
		                   o->flags & AW_MODE, o->mode);
	if (!err && (unsigned)o->flush > AW_BATCH_SYNCFS)
		err = EINVAL;
	return err ? aw__fail(e, AW_STEP_ARGS, NULL, err) : 0;
}

int aw__publish_options(aw_publish_options *o, const aw_publish_options *given,
                        const char *link, aw_error *e)
{
	int err = copy_sized(o, sizeof *o, PUBLISH_OPTIONS_1_0, given);
	if (!err)
		err = check_common(o->durability, o->flags,
		                   AW_PUBLISH_ADOPT | AW_PUBLISH_DISCARD_ADOPTED |
		                   AW_PUBLISH_MODE,
		                   o->flags & AW_PUBLISH_MODE, o->mode);
	if (!err && o->keep > AW__MAX_KEEP)
		err = EINVAL;
	return err ? aw__fail(e, AW_STEP_ARGS, link, err) : 0;
}
