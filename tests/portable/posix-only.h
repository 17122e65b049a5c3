/* SPDX-License-Identifier: MIT */
/*
 * posix-only.h - forced first into every file of src/ and cli/ by `make
 * check-portable`, which compiles them as on a system that is not Linux:
 * __linux__ undefined, glibc asked for POSIX 2008 (XSI) only (no
 * _GNU_SOURCE, so O_TMPFILE, AT_EMPTY_PATH, renameat2 ... are not
 * declared).  A Linux-only call that leaks out of its #ifdef fails the
 * build.  Allowed beyond POSIX: what macOS, FreeBSD, OpenBSD and NetBSD
 * all have (flock(), which glibc declares anyway; struct dirent's d_type).
 *
 * With AW_PORTABLE_DARWIN (check-portable's second pass) it plays macOS
 * instead: __APPLE__ defined, the BSD interfaces of glibc visible, and the
 * few Darwin names the code uses declared as Darwin has them, so that the
 * macOS branches compile too.
 */
#ifndef AW_POSIX_ONLY_H
#define AW_POSIX_ONLY_H

/* Linux-only headers read as empty: what they declare stays unknown. */
#define _SYS_XATTR_H 1
#define _SYS_RANDOM_H 1
#define _SYS_IOCTL_H 1
#define _LINUX_FS_H 1
#define _SYSCALL_H 1

#include <dirent.h>
#ifndef DT_UNKNOWN   /* the BSDs' values, and Linux's */
#define DT_UNKNOWN 0
#define DT_FIFO 1
#define DT_CHR 2
#define DT_DIR 4
#define DT_BLK 6
#define DT_REG 8
#define DT_LNK 10
#define DT_SOCK 12
#endif

#ifdef AW_PORTABLE_DARWIN
#include <stddef.h>
#include <sys/stat.h>
/* <stdio.h>: renameatx_np() and its flags */
int renameatx_np(int fromfd, const char *from, int tofd, const char *to,
                 unsigned int flags);
#define RENAME_SWAP 0x00000002
#define RENAME_EXCL 0x00000004
/* <fcntl.h> */
#define F_FULLFSYNC 51
/* <sys/stat.h>: the times are st_atimespec ..., no st_atim */
#define st_atimespec st_atim
#define st_mtimespec st_mtim
#define st_ctimespec st_ctim
/* <errno.h> */
#define ENOATTR 93
#pragma GCC poison st_atim st_mtim st_ctim pipe2
#endif

/* Linux's own calls: an error wherever they are named. */
#pragma GCC poison renameat2 syncfs copy_file_range getrandom statx \
	flistxattr fgetxattr fsetxattr listxattr getxattr setxattr \
	memfd_create splice fallocate sendfile

#endif
