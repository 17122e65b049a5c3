/* SPDX-License-Identifier: MIT */
/* twofds FILE: two O_TRUNC opens of FILE, "one" written to the first and
 * "two" to the second; closes the second, prints what FILE holds, closes
 * the first, prints it again: under run, two replacements, the last
 * closer's whole ("two" then "one"). */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static void show(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	printf("%s|", buf);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	int a = open(argv[1], O_WRONLY | O_TRUNC | O_CREAT, 0644);
	int b = open(argv[1], O_WRONLY | O_TRUNC | O_CREAT, 0644);
	if (a < 0 || b < 0 || write(a, "one", 3) != 3 || write(b, "two", 3) != 3)
		return 2;
	show(argv[1]);
	if (close(b) != 0)
		return 3;
	show(argv[1]);
	if (close(a) != 0)
		return 3;
	show(argv[1]);
	printf("\n");
	return 0;
}
