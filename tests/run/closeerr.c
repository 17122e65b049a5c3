/* SPDX-License-Identifier: MIT */
/* closeerr FILE: opens FILE (O_TRUNC), writes, then puts a directory where
 * FILE was, so that the commit's rename must fail; prints close()'s result
 * and errno name. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "new\n", 4) != 4 || unlink(argv[1]) < 0 ||
	    mkdir(argv[1], 0755) < 0)
		return 2;
	errno = 0;
	int r = close(fd);
	printf("close %d %s\n", r, r < 0 ? strerrorname_np(errno) : "-");
	return 0;
}
