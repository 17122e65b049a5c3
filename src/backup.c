/*
 * backup.c - keeping the file a commit replaces as NAME~ (or another
 * suffix): a hard link to the old inode, so it costs no copy, and renamed
 * into place so a reader of the backup name also sees old or new, whole.
 */
#include "internal.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

int aw_keep_backup(aw_file *f, const char *suffix, aw_error *e)
{
	if (!f || !suffix || !*suffix || strchr(suffix, '/'))
		return aw__fail(e, AW_STEP_ARGS, f ? f->path : NULL, EINVAL);
	char backup[NAME_MAX + 1], tmp[NAME_MAX + 1];
	int n = snprintf(backup, sizeof backup, "%s%s", f->name, suffix);
	if (n < 0 || (size_t)n >= sizeof backup)
		return aw__fail(e, AW_STEP_BACKUP, f->path, ENAMETOOLONG);
	for (int tries = 0; tries < 100; tries++) {
		if (aw__tmpname(tmp, backup, NAME_MAX) < 0)
			return aw__fail(e, AW_STEP_BACKUP, f->path, errno);
		if (aw__linkat(f->dirfd, f->name, f->dirfd, tmp, 0) == 0)
			break;
		if (errno == ENOENT)
			return 0;   /* no old file: nothing to keep */
		if (errno != EEXIST)
			return aw__fail(e, AW_STEP_BACKUP, f->path, errno);
		if (tries == 99)
			return aw__fail(e, AW_STEP_BACKUP, f->path, EEXIST);
	}
	if (aw__renameat(f->dirfd, tmp, f->dirfd, backup) < 0) {
		int err = errno;
		aw__unlinkat(f->dirfd, tmp, 0);
		return aw__fail(e, AW_STEP_BACKUP, f->path, err);
	}
	return 0;
}
