/* SPDX-License-Identifier: MIT */
/*
 * xfs_exchange.h - the XFS content-exchange ioctls (Linux 6.10 and later),
 * written from the layout the kernel's fs/xfs/libxfs/xfs_fs.h gives them.
 * Debian 12's headers (and xfsprogs before 6.10) have none of them; a
 * translation unit that includes a system header defining them first
 * (xfsprogs' <xfs/xfs_fs.h>) uses that one instead.  Only sys.c includes
 * this file: the rest of the library sees aw__xfs_*() in sys.h.
 */
#ifndef AW_XFS_EXCHANGE_H
#define AW_XFS_EXCHANGE_H

#if defined(__linux__)
#include <stdint.h>
#include <sys/ioctl.h>

#ifndef XFS_IOC_EXCHANGE_RANGE
/* The file the ioctl is called on is "file2" (for us: the target); file1
 * (the temporary) gives its contents from file1_offset on.  pad is 0. */
struct xfs_exchange_range {
	int32_t file1_fd;
	uint32_t pad;
	uint64_t file1_offset;
	uint64_t file2_offset;
	uint64_t length;
	uint64_t flags;           /* XFS_EXCHANGE_RANGE_* */
};

/* The same, done only if file2 still has the inode number, mtime and ctime
 * recorded in file2_freshness by XFS_IOC_START_COMMIT (else EBUSY). */
struct xfs_commit_range {
	int32_t file1_fd;
	uint32_t pad;
	uint64_t file1_offset;
	uint64_t file2_offset;
	uint64_t length;
	uint64_t flags;
	uint64_t file2_freshness[6];   /* opaque to user space */
};

/* Exchange to the end of both files, then the sizes (length ignored). */
#define XFS_EXCHANGE_RANGE_TO_EOF (1ULL << 0)
/* Flush data and metadata of both files to disk before returning. */
#define XFS_EXCHANGE_RANGE_DSYNC (1ULL << 1)
/* Check everything, change nothing. */
#define XFS_EXCHANGE_RANGE_DRY_RUN (1ULL << 2)
/* Only the allocation units written in file1's range. */
#define XFS_EXCHANGE_RANGE_FILE1_WRITTEN (1ULL << 3)

#define XFS_IOC_EXCHANGE_RANGE _IOW('X', 129, struct xfs_exchange_range)
#define XFS_IOC_START_COMMIT _IOR('X', 130, struct xfs_commit_range)
#define XFS_IOC_COMMIT_RANGE _IOW('X', 131, struct xfs_commit_range)
#endif

_Static_assert(sizeof(struct xfs_exchange_range) == 40,
               "struct xfs_exchange_range: the kernel's layout is 40 bytes");
_Static_assert(sizeof(struct xfs_commit_range) == 88,
               "struct xfs_commit_range: the kernel's layout is 88 bytes");
#endif /* __linux__ */

#endif /* AW_XFS_EXCHANGE_H */
