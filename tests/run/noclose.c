/* SPDX-License-Identifier: MIT */
/* noclose FILE TEXT [stdio]: writes TEXT to FILE and exits without closing
 * it (with "stdio": through a FILE left unflushed, so that exit() must
 * flush it before the commit). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	if (argc > 3) {
		FILE *f = fopen(argv[1], "w");
		if (!f)
			return 2;
		fputs(argv[2], f);
		exit(0);
	}
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd < 0 || write(fd, argv[2], strlen(argv[2])) != (ssize_t)strlen(argv[2]))
		return 2;
	exit(0);
}
