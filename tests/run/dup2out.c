/* SPDX-License-Identifier: MIT */
/* dup2out FILE N: opens FILE (O_TRUNC), dup2()s it onto standard output,
 * closes the original and prints N numbered lines with printf, then
 * returns from main (exit's flush and the preload's commit). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || dup2(fd, 1) != 1 || close(fd) != 0)
		return 2;
	for (long i = 0, n = atol(argv[2]); i < n; i++)
		printf("line %ld\n", i);
	return 0;
}
