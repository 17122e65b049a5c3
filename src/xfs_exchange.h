/* SPDX-License-Identifier: MIT */
/*
 * xfs_exchange.h - the XFS content-exchange ioctls (exchange-range: Linux
 * 6.10 and later; start-commit and commit-range: 6.12 and later),
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

/* Each definition guarded on its own: xfsprogs 6.10 and 6.11 define the
 * exchange but not the commit (which Linux 6.12 added). */
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
#define XFS_IOC_EXCHANGE_RANGE _IOW('X', 129, struct xfs_exchange_range)
#endif

#if !defined(XFS_IOC_START_COMMIT) && !defined(XFS_IOC_COMMIT_RANGE)
/* The same, done only if file2 still has the inode number, generation,
 * mtime and ctime recorded in file2_freshness by XFS_IOC_START_COMMIT
 * (else EBUSY). */
struct xfs_commit_range {
	int32_t file1_fd;
	uint32_t pad;
	uint64_t file1_offset;
	uint64_t file2_offset;
	uint64_t length;
	uint64_t flags;
	uint64_t file2_freshness[6];   /* opaque to user space */
};
#endif
#ifndef XFS_IOC_START_COMMIT
#define XFS_IOC_START_COMMIT _IOR('X', 130, struct xfs_commit_range)
#endif
#ifndef XFS_IOC_COMMIT_RANGE
#define XFS_IOC_COMMIT_RANGE _IOW('X', 131, struct xfs_commit_range)
#endif

/* Exchange to the end of both files, then the sizes (length ignored). */
#ifndef XFS_EXCHANGE_RANGE_TO_EOF
#define XFS_EXCHANGE_RANGE_TO_EOF (1ULL << 0)
#endif
/* Flush data and metadata of both files to disk before returning. */
#ifndef XFS_EXCHANGE_RANGE_DSYNC
#define XFS_EXCHANGE_RANGE_DSYNC (1ULL << 1)
#endif
/* Check everything, change nothing. */
#ifndef XFS_EXCHANGE_RANGE_DRY_RUN
#define XFS_EXCHANGE_RANGE_DRY_RUN (1ULL << 2)
#endif

_Static_assert(sizeof(struct xfs_exchange_range) == 40,
               "struct xfs_exchange_range: the kernel's layout is 40 bytes");
_Static_assert(sizeof(struct xfs_commit_range) == 88,
               "struct xfs_commit_range: the kernel's layout is 88 bytes");
#endif /* __linux__ */

#endif /* AW_XFS_EXCHANGE_H */
