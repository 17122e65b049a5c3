/* SPDX-License-Identifier: MIT */
/*
 * strerror.c - `test-strerror NAME` prints strerror() of the errno named
 * NAME (EIO, ENOSPC ...) as the libc it is linked with words it: the CLI
 * tests expect the CLI's messages in its own libc's words (glibc's
 * "Input/output error" is musl's "I/O error"), so make check builds this
 * with the CLI's compiler and flags, beside it (tests/cli/lib.sh,
 * t_strerror).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define E(name) { #name, name }
static const struct {
	const char *name;
	int err;
} names[] = {
	E(EPERM), E(ENOENT), E(EIO), E(EBADF), E(EACCES), E(EBUSY), E(EEXIST),
	E(EXDEV), E(ENOTDIR), E(EISDIR), E(EINVAL), E(EFBIG), E(ENOSPC),
	E(EROFS), E(ENAMETOOLONG), E(ENOSYS), E(ENOTEMPTY), E(ELOOP),
	E(EOVERFLOW), E(EOPNOTSUPP), E(ENOTSUP), E(ENOLCK), E(EWOULDBLOCK),
};

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test-strerror ENAME\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(argv[1], names[i].name) == 0) {
			printf("%s\n", strerror(names[i].err));
			return 0;
		}
	}
	fprintf(stderr, "test-strerror: unknown errno name %s\n", argv[1]);
	return 2;
}
