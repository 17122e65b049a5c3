/* SPDX-License-Identifier: MIT */
/* forkwrite FILE MODE: opens FILE (O_TRUNC), forks; the child writes
 * "child\n" and exits.  MODE "parent-first": the parent closes its copy at
 * once and waits (the child's exit is the last close); "parent-last": the
 * parent waits, then appends "parent\n" and closes (its close is the last).
 * Prints what the path held when the parent's turn came (after its close,
 * or after the child's exit): the old contents, or something committed
 * too early; then what the parent's close returned. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd < 0)
		return 2;
	int first = strcmp(argv[2], "parent-first") == 0;
	pid_t pid = fork();
	if (pid == 0) {
		if (!first)
			usleep(1000);
		else
			usleep(100000);   /* after the parent's close */
		return write(fd, "child\n", 6) == 6 ? 0 : 3;
	}
	int r = 0, status;
	if (first)
		r = close(fd);
	if (!first)
		waitpid(pid, &status, 0);
	char seen[64] = "";
	int rfd = open(argv[1], O_RDONLY);
	ssize_t n = rfd < 0 ? -1 : read(rfd, seen, sizeof(seen) - 1);
	if (rfd >= 0)
		close(rfd);
	seen[n > 0 ? n : 0] = 0;
	printf("seen %s", seen);
	if (first)
		waitpid(pid, &status, 0);
	if (!first) {
		/* the file still holds only what the old one had */
		if (write(fd, "parent\n", 7) != 7)
			return 3;
		r = close(fd);
	}
	printf("close %d\n", r);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 4;
}
