/* SPDX-License-Identifier: MIT */
/*
 * error.c - the error convention: errno plus the failing step and path.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int aw__fail2(aw_error *e, aw_step step, const char *path, const char *path2,
              int err)
{
	if (e) {
		memset(e->reserved, 0, sizeof e->reserved);
		e->err = err;
		e->step = step;
		snprintf(e->path, sizeof e->path, "%s", path ? path : "");
		snprintf(e->path2, sizeof e->path2, "%s", path2 ? path2 : "");
	}
	errno = err;
	return -1;
}

int aw__fail(aw_error *e, aw_step step, const char *path, int err)
{
	return aw__fail2(e, step, path, NULL, err);
}

const char *aw_step_name(aw_step step)
{
	switch (step) {
	case AW_STEP_NONE:         return "no error for";
	case AW_STEP_ARGS:         return "invalid arguments for";
	case AW_STEP_OPEN_DIR:     return "opening directory of";
	case AW_STEP_RESOLVE_LINK: return "following symbolic link";
	case AW_STEP_LOCK:         return "locking directory of";
	case AW_STEP_STAT_TARGET:  return "inspecting";
	case AW_STEP_TARGET_TYPE:  return "refusing to replace";
	case AW_STEP_CREATE_TEMP:  return "creating temporary file for";
	case AW_STEP_WRITE:        return "writing temporary file for";
	case AW_STEP_READ_SOURCE:  return "reading new contents for";
	case AW_STEP_CHOWN:        return "setting owner of temporary file for";
	case AW_STEP_XATTRS:       return "copying extended attributes to temporary file for";
	case AW_STEP_CHMOD:        return "setting mode of temporary file for";
	case AW_STEP_LINK_TEMP:    return "naming temporary file for";
	case AW_STEP_SYNC_TEMP:    return "fsync of temporary file for";
	case AW_STEP_RENAME:       return "renaming temporary file over";
	case AW_STEP_SYNC_DIR:     return "fsync of directory after replacing";
	case AW_STEP_SWEEP:        return "sweeping";
	case AW_STEP_INSPECT_LINK: return "inspecting link";
	case AW_STEP_MAKE_VERSION: return "creating new version directory for";
	case AW_STEP_POPULATE:     return "populating new version of";
	case AW_STEP_COPY_TREE:    return "copying";
	case AW_STEP_SYNC_TREE:    return "fsync of new version of";
	case AW_STEP_MAKE_LINK:    return "creating temporary link for";
	case AW_STEP_SWITCH_LINK:  return "switching link";
	case AW_STEP_ADOPT:        return "adopting the directory at";
	case AW_STEP_FIND_VERSION: return "finding the previous version of";
	case AW_STEP_EXCHANGE:     return "exchanging";
	case AW_STEP_BACKUP:       return "keeping a backup of";
	case AW_STEP_PROTECTED_FILE: return "refusing to replace another user's file";
	case AW_STEP_OPEN_TARGET:  return "opening for writing";
	case AW_STEP_EXCHANGE_CONTENTS: return "exchanging contents into";
	case AW_STEP_SYNC_TARGET:  return "fsync after exchanging contents into";
	case AW_STEP_TARGET_CHANGED: return "committing only if unchanged";
	}
	return "unknown step for";
}

/* What joins the two paths of a two-path step in a message. */
static const char *path2_joint(aw_step step)
{
	return step == AW_STEP_BACKUP ? "as" : "and";
}

/*
 * Every part has a bounded length, so that AW_ERROR_FORMAT_SIZE holds the
 * whole message: the step's name (ours, under 64 bytes), each path at most
 * AW_PATH_MAX_BYTES - 1 (precision: a caller's aw_error need not hold a
 * terminated string), the reason at most REASON_MAX.
 */
#define REASON_MAX 255

char *aw_error_format(const aw_error *e, char *buf, size_t size)
{
	if (size == 0)
		return buf;
	const char *reason = strerror(e->err);
	/* strerror(EINVAL) says "Invalid argument", which would puzzle
	 * someone who pointed us at a FIFO or a device. */
	if (e->step == AW_STEP_TARGET_TYPE && e->err == EINVAL)
		reason = "not a regular file";
	/* The usual surprise: the file itself is writable, but a
	 * replacement is made beside it, in its directory. */
	if (e->step == AW_STEP_CREATE_TEMP && e->err == EACCES)
		reason = "Permission denied (its directory must be writable: "
		         "the new file is made there)";
	if (e->step == AW_STEP_TARGET_CHANGED && e->err == EBUSY)
		reason = "the file changed since it was read";
	if (e->step == AW_STEP_EXCHANGE_CONTENTS && e->err == EOPNOTSUPP)
		reason = "this filesystem cannot exchange contents (XFS made "
		         "with mkfs.xfs -i exchange=1, Linux 6.10 or later, can)";
	int pmax = AW_PATH_MAX_BYTES - 1;
	if (e->path2[0])
		snprintf(buf, size, "%s %.*s %s %.*s: %.*s", aw_step_name(e->step),
		         pmax, e->path, path2_joint(e->step), pmax, e->path2,
		         REASON_MAX, reason);
	else
		snprintf(buf, size, "%s %.*s: %.*s", aw_step_name(e->step),
		         pmax, e->path, REASON_MAX, reason);
	return buf;
}
