/* SPDX-License-Identifier: MIT */
/*
 * copydata.c - copying a file's bytes into a temporary file as cheaply as
 * the filesystem allows: share the extents (a reflink clone: constant time
 * on btrfs and XFS), else let the kernel copy (copy_file_range: no trip
 * through user space, and server-side on NFS), else read and write.
 * Holes stay holes: a sparse source (fewer blocks than its size needs) is
 * copied one data region at a time (SEEK_DATA/SEEK_HOLE), so a 1 GiB
 * sparse file fits where it fits, as with `cp --sparse`.
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

/* Reads src and writes what it read to dst until the source ends or, if
 * max >= 0, *done reaches max bytes; *done counts what was copied. */
static int copy_buffered(int dst, int src, off_t max, off_t *done,
                         aw_step *failed)
{
	char buf[65536];
	while (max < 0 || *done < max) {
		size_t want = sizeof buf;
		if (max >= 0 && max - *done < (off_t)want)
			want = (size_t)(max - *done);
		ssize_t n = aw__read(src, buf, want);
		if (n < 0) {
			*failed = AW_STEP_READ_SOURCE;
			return -1;
		}
		if (n == 0)
			return 0;
		if (aw__write_all(dst, buf, (size_t)n) < 0)
			return -1;
		*done += n;
	}
	return 0;
}

static int copy_read_write(int dst, int src, aw_step *failed)
{
	off_t done = 0;
	return copy_buffered(dst, src, -1, &done, failed);
}

#ifdef SEEK_DATA
/* Copies up to len bytes from src's offset to dst's, by copy_file_range
 * while *use_range (cleared, once, if the kernel cannot), else by read and
 * write.  *done: bytes copied (fewer than len if the source ended). */
static int copy_region(int dst, int src, off_t len, bool *use_range,
                       bool *ranged, off_t *done, aw_step *failed)
{
	*done = 0;
	while (*use_range && *done < len) {
		off_t left = len - *done;
		size_t chunk = left > (1 << 30) ? (size_t)1 << 30 : (size_t)left;
		ssize_t n = aw__copy_file_range(src, dst, chunk);
		if (n > 0) {
			*ranged = true;
			*done += n;
			continue;
		}
		if (n == 0)
			return 0;
		if (*ranged || !unsupported(errno))
			return -1;
		*use_range = false;
	}
	return copy_buffered(dst, src, len, done, failed);
}

/*
 * Copies the regular file src from src_off on to dst at dst_off, data
 * regions only, leaving holes where src has them; the size comes out
 * exact (a trailing hole by ftruncate).  Returns 1, having done nothing,
 * where this cannot work: the filesystem cannot say where the data is, or
 * dst holds bytes past dst_off that a hole would leave in place.
 */
static int copy_sparse(int dst, int src, off_t src_off, off_t dst_off,
                       enum aw__copy_method *how, aw_step *failed)
{
	struct stat dst_st;
	if (aw__fstat(dst, &dst_st) < 0)
		return -1;
	if (dst_st.st_size > dst_off)
		return 1;
	bool use_range = true, ranged = false;
	off_t pos = src_off;
	for (;;) {
		off_t data = aw__lseek(src, pos, SEEK_DATA);
		if (data < 0) {
			/* ENXIO: no data from pos to the end. */
			if (errno == ENXIO)
				break;
			if (pos == src_off && (errno == EINVAL ||
			                       errno == ENOTSUP || errno == EOPNOTSUPP))
				return 1;
			*failed = AW_STEP_READ_SOURCE;
			return -1;
		}
		off_t hole = aw__lseek(src, data, SEEK_HOLE);
		if (hole < 0 || aw__lseek(src, data, SEEK_SET) < 0) {
			*failed = AW_STEP_READ_SOURCE;
			return -1;
		}
		if (aw__lseek(dst, dst_off + (data - src_off), SEEK_SET) < 0)
			return -1;
		off_t done;
		if (copy_region(dst, src, hole - data, &use_range, &ranged,
		                &done, failed) < 0)
			return -1;
		pos = data + done;
		if (done < hole - data)
			break;   /* the source ended early: it shrank */
	}
	/* The size: where the source ends now, or where the copy stopped
	 * if it shrank meanwhile.  A trailing hole is made by extending dst,
	 * without writing. */
	off_t end = aw__lseek(src, 0, SEEK_END);
	if (end < 0) {
		*failed = AW_STEP_READ_SOURCE;
		return -1;
	}
	if (end > pos) {
		if (aw__ftruncate(dst, dst_off + (end - src_off)) < 0)
			return -1;
		pos = end;
	}
	if (aw__lseek(dst, dst_off + (pos - src_off), SEEK_SET) < 0)
		return -1;
	*how = ranged ? AW__COPY_RANGE : AW__COPY_READ_WRITE;
	return 0;
}
#endif

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
	if (src_off < 0 && S_ISREG(st.st_mode)) {
		*failed = AW_STEP_READ_SOURCE;
		return -1;
	}
	/* (ESPIPE for a pipe or socket: copied from where it stands.) */
	off_t dst_off = aw__lseek(dst, 0, SEEK_CUR);
	if (dst_off < 0)
		return -1;
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

#ifdef SEEK_DATA
	/* Fewer blocks than the size needs: there are holes to keep. */
	if (S_ISREG(st.st_mode) && st.st_size > src_off &&
	    (off_t)st.st_blocks * 512 < st.st_size) {
		int r = copy_sparse(dst, src, src_off, dst_off, how, failed);
		if (r <= 0)
			return r;
	}
#endif

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

int aw_file_copy_from(aw_file *f, int srcfd, aw_error *e)
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
