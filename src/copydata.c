/*
 * copydata.c - copying a file's bytes into a temporary file as cheaply as
 * the filesystem allows: share the extents (a reflink clone: constant time
 * on btrfs and XFS), else let the kernel copy (copy_file_range: no trip
 * through user space, and server-side on NFS), else read and write.
 */
#include "internal.h"
#include "sys.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

/* The errnos with which clone and copy_file_range say "not here" rather
 * than "failed": the caller then tries the next method. */
static bool unsupported(int err)
{
	return err == EOPNOTSUPP || err == ENOTSUP || err == EXDEV ||
	       err == EINVAL || err == ENOTTY || err == ENOSYS ||
	       err == EBADF || err == ETXTBSY || err == EPERM;
}

static int copy_read_write(int dst, int src, aw_step *failed)
{
	char buf[65536];
	for (;;) {
		ssize_t n = aw__read(src, buf, sizeof buf);
		if (n < 0) {
			*failed = AW_STEP_READ_SOURCE;
			return -1;
		}
		if (n == 0)
			return 0;
		if (aw__write_all(dst, buf, (size_t)n) < 0)
			return -1;
	}
}

int aw__copy_data(int dst, int src, bool allow_clone,
                  enum aw__copy_method *how, aw_step *failed)
{
	struct stat st;
	/* Clone and copy_file_range failures cannot tell the sides apart;
	 * they are reported as the write they are. */
	*failed = AW_STEP_WRITE;
	if (aw__fstat(src, &st) < 0) {
		*failed = AW_STEP_READ_SOURCE;
		return -1;
	}

	/* A clone replaces dst's contents with all of src, whatever the
	 * offsets: only for a regular file read from its start into an
	 * empty temporary file. */
	off_t src_off = aw__lseek(src, 0, SEEK_CUR);
	off_t dst_off = aw__lseek(dst, 0, SEEK_CUR);
	if (allow_clone && S_ISREG(st.st_mode) && src_off == 0 && dst_off == 0) {
		if (aw__clone(dst, src) == 0) {
			if (aw__lseek(dst, 0, SEEK_END) < 0 || aw__lseek(src, 0, SEEK_END) < 0)
				return -1;
			*how = AW__COPY_CLONE;
			return 0;
		}
		if (!unsupported(errno))
			return -1;
	}

	/* copy_file_range reports 0 at the end of the source; for a pipe
	 * or a file that does not hold all its data (procfs, sysfs report
	 * size 0) it may copy nothing, so it is used for regular files
	 * only and checked against the size. */
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		bool copied_any = false;
		for (;;) {
			ssize_t n = aw__copy_file_range(src, dst, 1 << 30);
			if (n > 0) {
				copied_any = true;
				continue;
			}
			if (n == 0)
				break;
			if (copied_any || !unsupported(errno))
				return -1;
			break;
		}
		if (copied_any) {
			/* Bytes appended after the fstat are copied too. */
			*how = AW__COPY_RANGE;
			return copy_read_write(dst, src, failed);
		}
	}

	*how = AW__COPY_READ_WRITE;
	return copy_read_write(dst, src, failed);
}

int aw_copy_from(aw_file *f, int srcfd, aw_error *e)
{
	if (!f || srcfd < 0)
		return aw__fail(e, AW_STEP_ARGS, f ? f->path : NULL, EINVAL);
	/* A batch may have closed the temporary: reopened by name. */
	if (f->fd < 0 && f->batch && aw__batch_reopen(f, e) < 0)
		return -1;
	enum aw__copy_method how;
	aw_step failed;
	if (aw__copy_data(f->fd, srcfd, true, &how, &failed) < 0) {
		/* Nothing half-copied may be committed. */
		f->write_failed = true;
		f->write_errno = errno;
		return aw__fail(e, failed, f->path, errno);
	}
	return 0;
}
