/* SPDX-License-Identifier: MIT */
/*
 * metadata.c - what the new file keeps of the old one: owner and group,
 * extended attributes (POSIX ACLs, SELinux labels, user attributes) and
 * mode, set on the temporary file before it is renamed into place.
 *
 * Order matters: chown() clears the set-user-ID and set-group-ID bits and
 * may drop file capabilities, so the owner comes first, the attributes
 * next and the mode last.
 */
#include "internal.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Whether a failed fchown() means "this writer may not give the file that
 * owner" (the documented outcome: the new file is the writer's) rather
 * than a failure.  EPERM is the usual answer.  EINVAL comes from a user
 * namespace in which the old owner is not mapped (`unshare --user`): not
 * root there, the writer could not have kept it anyway.  Root (euid 0) is
 * expected to keep every owner, so for it EINVAL stays an error.  ENOSYS:
 * the filesystem or system has no owners to set.
 */
static bool owner_refused(int err)
{
	return err == EPERM || err == ENOSYS ||
	       (err == EINVAL && geteuid() != 0);
}

static int keep_owner(struct aw_file *f, const struct stat *fresh, aw_error *e)
{
	uid_t uid = f->target.st_uid;
	gid_t gid = f->target.st_gid;
	/* Compare with what the new file really got, not with our own ids:
	 * in a set-group-ID directory it got the directory's group.  A
	 * status taken in this same commit (fresh) tells it. */
	struct stat now;
	if (fresh)
		now = *fresh;
	else if (aw__fstat(f->fd, &now) < 0)
		return aw__fail(e, AW_STEP_CHOWN, f->path, errno);
	if (uid == now.st_uid && gid == now.st_gid)
		return 0;
	if (aw__fchown(f->fd, uid, gid) == 0)
		return 0;
	if (!owner_refused(errno))
		return aw__fail(e, AW_STEP_CHOWN, f->path, errno);
	/* Not root: the owner cannot be given away, but the group can if
	 * we are a member.  Otherwise the new file is ours, as documented. */
	if (aw__fchown(f->fd, (uid_t)-1, gid) == 0 || owner_refused(errno))
		return 0;
	return aw__fail(e, AW_STEP_CHOWN, f->path, errno);
}

/* Errors that mean "this attribute cannot be kept here or by us", which
 * the best-effort copy skips; any other error fails the replacement. */
static bool unkeepable(int err)
{
	return err == EPERM || err == EACCES || err == ENOTSUP ||
	       err == EOPNOTSUPP || err == AW__ENOATTR;
}

/* Reads the whole attribute list or one value into a fresh buffer. */
static ssize_t read_xattr(int fd, const char *name, char **out)
{
	for (int tries = 0; tries < 4; tries++) {
		ssize_t size = name ? aw__fgetxattr(fd, name, NULL, 0)
		                    : aw__flistxattr(fd, NULL, 0);
		if (size <= 0)
			return size;
		char *buf = malloc((size_t)size);
		if (!buf) {
			errno = ENOMEM;
			return -1;
		}
		ssize_t n = name ? aw__fgetxattr(fd, name, buf, (size_t)size)
		                 : aw__flistxattr(fd, buf, (size_t)size);
		if (n >= 0) {
			*out = buf;
			return n;
		}
		free(buf);
		/* It grew between the two calls: ask again. */
		if (errno != ERANGE)
			return -1;
	}
	errno = ERANGE;
	return -1;
}

/* 0: the old file has no attributes (nothing was set); 1: it may have had
 * some and they were copied (which may change the mode: an ACL's mask is
 * the group bits); -1 with e filled. */
static int copy_xattrs(struct aw_file *f, aw_error *e)
{
	/* Most files have no attributes: one call tells, where the kernel
	 * can list them by name, instead of open, flistxattr and close.
	 * Any other answer (some, or the call missing or refused) takes
	 * the long way, which judges errors as before. */
	if (f->xattrs_asked ? f->no_xattrs
	                    : aw__listxattrat(f->dirfd, f->name, NULL, 0) == 0)
		return 0;
	int src = aw__openat(f->dirfd, f->name, O_RDONLY | O_NOFOLLOW |
	                     O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);
	if (src < 0) {
		/* Unreadable to us, or gone or changed since aw_file_begin():
		 * nothing we may copy. */
		if (errno == EACCES || errno == EPERM || errno == ENOENT ||
		    errno == ELOOP || errno == ENXIO || errno == EWOULDBLOCK)
			return 0;
		return aw__fail(e, AW_STEP_XATTRS, f->path, errno);
	}
	char *list = NULL, *value = NULL;
	int result = 1;
	ssize_t len = read_xattr(src, NULL, &list);
	if (len < 0) {
		if (!unkeepable(errno))
			result = aw__fail(e, AW_STEP_XATTRS, f->path, errno);
		goto out;
	}
	for (ssize_t off = 0; off < len;) {
		const char *name = list + off;
		off += (ssize_t)strlen(name) + 1;
		ssize_t vlen = read_xattr(src, name, &value);
		if (vlen < 0) {
			if (unkeepable(errno))
				continue;
			result = aw__fail(e, AW_STEP_XATTRS, f->path, errno);
			goto out;
		}
		int r = aw__fsetxattr(f->fd, name, vlen ? value : "", (size_t)vlen);
		free(value);
		value = NULL;
		if (r < 0 && !unkeepable(errno)) {
			result = aw__fail(e, AW_STEP_XATTRS, f->path, errno);
			goto out;
		}
	}
out:
	free(list);
	aw__close(src);
	return result;
}

int aw__apply_metadata(struct aw_file *f, const struct stat *fresh,
                       aw_error *e)
{
	bool keep = f->had_target && !(f->opts.flags & AW_NO_KEEP_OWNER_XATTRS);
	int copied = 0;
	if (keep && keep_owner(f, fresh, e) < 0)
		return -1;
	if (keep && (copied = copy_xattrs(f, e)) < 0)
		return -1;

	mode_t mode;
	if (f->opts.flags & AW_MODE)
		mode = f->opts.mode;
	else if (f->had_target)
		mode = f->target.st_mode & 07777;
	else
		return 0;  /* created with 0666 & ~umask already */
	/* The mode the file has, as fresh says, is already the one to set,
	 * and nothing since can have changed it: no attribute was set (an
	 * ACL would have), and a chown, which clears the set-ID bits, had
	 * none to clear.  Any doubt: the fchmod. */
	if (fresh && copied == 0 && !(mode & (S_ISUID | S_ISGID)) &&
	    (fresh->st_mode & 07777) == mode)
		return 0;
	if (aw__fchmod(f->fd, mode) < 0)
		return aw__fail(e, AW_STEP_CHMOD, f->path, errno);
	return 0;
}
