/* SPDX-License-Identifier: MIT */
/* closecheck FILE TEXT: open(FILE, O_WRONLY|O_CREAT|O_TRUNC), write TEXT
 * and a newline, close; exits 1 with close()'s errno if close failed, 2 if
 * open or write did: the fault sweep's program that checks close. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	size_t n = strlen(argv[2]);
	if (fd < 0 || write(fd, argv[2], n) != (ssize_t)n || write(fd, "\n", 1) != 1) {
		fprintf(stderr, "closecheck: %s\n", strerror(errno));
		return 2;
	}
	if (close(fd) < 0) {
		fprintf(stderr, "close: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
