/* SPDX-License-Identifier: MIT */
/* writer FILE GEN: replaces FILE in place the unsafe way (open O_TRUNC,
 * then 1 MiB in 4 KiB chunks of the byte 'a' + GEN % 26), then closes it:
 * the crash test's victim.  Prints "open" once the file is open. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char buf[4096];
	if (argc != 3)
		return 2;
	memset(buf, 'a' + atoi(argv[2]) % 26, sizeof(buf));
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return 2;
	for (int i = 0; i < 256; i++)
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			return 3;
	return close(fd) == 0 ? 0 : 1;
}
