/* SPDX-License-Identifier: MIT */
/*
 * fuzz_cli.c - libFuzzer target for the command line: the input is split
 * at NUL bytes into argv, and the CLI runs on it inside a fresh scratch
 * directory.  Inputs that name anything outside that directory (a '/', or
 * "." and "..", which would let exchange or publish touch its parent) are
 * skipped: the target is the argument and path handling, not the host.
 * Shell commands and editors are stubbed out (fuzz_stubs.h).
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_main(int argc, char **argv);

static char scratch[4096];

void fuzz_clear(const char *dir);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(scratch, sizeof scratch, "%s/aw-fuzz-cli-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(scratch) || chdir(scratch) < 0)
		abort();
	/* Standard input is empty; the CLI's output is silenced by the
	 * runner's -close_fd_mask=3, which keeps libFuzzer's own reports. */
	int null = open("/dev/null", O_RDONLY);
	dup2(null, STDIN_FILENO);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 512)
		return 0;
	char buf[520];
	memcpy(buf, data, size);
	buf[size] = '\0';
	char *argv[34] = { "atomicwrite" };
	int argc = 1;
	for (size_t i = 0; i <= size && argc < 33;) {
		char *arg = buf + i;
		size_t len = strlen(arg);
		if (strchr(arg, '/') || !strcmp(arg, ".") || !strcmp(arg, ".."))
			return 0;
		argv[argc++] = arg;
		i += len + 1;
	}
	argv[argc] = NULL;
	/* A few files for the commands to find. */
	int fd = open("f", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		(void)!write(fd, "old\n", 4);
		close(fd);
	}
	mkdir("d", 0755);
	optind = 0;   /* glibc: a full reset of getopt's state */
	cli_main(argc, argv);
	fuzz_clear(scratch);
	return 0;
}
