/* SPDX-License-Identifier: MIT */
/*
 * spawn.c - runs a command-line tool once per target, the way a shell
 * script would: `TOOL [ARGS...] TARGET < SOURCE`, waiting for each.  Used
 * for our CLI and for moreutils' sponge, so both pay the same process
 * start-up.  SOURCE is a file holding the new contents.
 *
 *     spawn small|small-nosync|large DIR N SIZE SOURCE TOOL [ARGS...]
 */
#include "driver.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc < 7) {
		fprintf(stderr, "usage: spawn MODE DIR N SIZE SOURCE TOOL [ARGS...]\n");
		return 2;
	}
	struct bench_args a = bench_parse(5, argv);
	const char *source = argv[5];
	int nargs = argc - 6;
	char **cmd = calloc((size_t)nargs + 2, sizeof *cmd);
	if (!cmd)
		bench_die("calloc", NULL);
	for (int i = 0; i < nargs; i++)
		cmd[i] = argv[6 + i];
	char path[4096];
	double start = bench_now_us();
	for (long i = 0; i < a.n; i++) {
		bench_target(&a, i, path, sizeof path);
		cmd[nargs] = path;
		posix_spawn_file_actions_t fa;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 0, source, O_RDONLY, 0);
		pid_t pid;
		if (posix_spawnp(&pid, cmd[0], &fa, NULL, cmd, environ) != 0)
			bench_die("spawn", cmd[0]);
		posix_spawn_file_actions_destroy(&fa);
		int status;
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			bench_die(cmd[0], path);
	}
	bench_report(start);
	free(cmd);
	return 0;
}
