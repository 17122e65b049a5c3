/* SPDX-License-Identifier: MIT */
/*
 * awh-fds - a library caller that starts with descriptors 0, 1 and 2
 * closed (as a daemon or a `prog <&- >&- 2>&-` would), replaces FILE with
 * "new\n" through aw_file_begin()/aw_file_write()/aw_file_commit(), and meanwhile writes
 * noise to 0, 1 and 2 as a careless program would (stdio to a closed stream
 * normally just fails with EBADF).  If the library handed out 0-2 as the
 * temporary file, the noise lands in FILE.
 *
 *   awh-fds FILE [named]   exit 0 if the commit succeeded; "named" adds
 *                          AW_NO_TMPFILE (a named temporary file)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <atomicwrite.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 3)
		return 2;
	close(0);
	close(1);
	close(2);
	aw_file *f;
	aw_error e;
	aw_options o = { 0 };
	o.flags = AW_FOLLOW_SYMLINKS;
	if (argc == 3 && strcmp(argv[2], "named") == 0)
		o.flags |= AW_NO_TMPFILE;
	if (aw_file_begin(&f, argv[1], &o, &e) < 0)
		return 1;
	if (aw_file_write(f, "new\n", 4, &e) < 0) {
		aw_file_discard(f);
		return 1;
	}
	for (int fd = 0; fd < 3; fd++) {
		ssize_t n = write(fd, "NOISE\n", 6);
		(void)n;
	}
	return aw_file_commit(f, &e) == AW_OK ? 0 : 1;
}
