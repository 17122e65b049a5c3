/* SPDX-License-Identifier: MIT */
/*
 * workload_cli.c - the power-loss workloads of the command's subcommands:
 * the guest runs /atomicwrite (static, in its initramfs) over and over and
 * acknowledges each run that exited 0.  New contents are staged first in
 * /stage (the initramfs, not the disk under test).
 *
 *   batch     all 8 files in one `atomicwrite batch fileN=/stage/fileN...`;
 *             ACK each
 *   backup    one file per run, `atomicwrite --backup --from=...`: fileN~
 *             must hold a complete earlier version
 *   edit      `atomicwrite edit fileN` with VISUAL="cp /stage/new" (the
 *             scripted editor); the files are created first by the library
 *   symlink   file0..7 created, then `atomicwrite symlink fileK link` with
 *             K = R % 8 in run R, acknowledged "LNK R"
 *   exchange  file0 and file1 created, then `atomicwrite exchange file0
 *             file1`, "EXC R": each path holds one of the two files, whole
 *   adopt     a plain directory "site" holding version 1 (acknowledged
 *             "PUB 1" once flushed), then `atomicwrite publish --adopt
 *             --keep 2 site /stage/tree` with versions 2, 3, ...
 */
#define _GNU_SOURCE
#include <atomicwrite.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "version_format.h"
#include "workload.h"

#define AW "/atomicwrite"

/* Run the command; 0 if it exited 0. */
static int run(char *const argv[])
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 1);
		execv(AW, argv);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int stage(const char *path, const void *buf, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int r = fd < 0 || write_all(fd, buf, n) < 0 ? -1 : 0;
	if (fd >= 0)
		close(fd);
	return r;
}

/* file0 .. file(count-1) at version 1, by the library, acknowledged. */
static int create_files(int ack, unsigned count, unsigned char *buf, uint64_t *seed)
{
	for (uint32_t id = 0; id < count; id++) {
		char name[16];
		snprintf(name, sizeof name, "file%u", id);
		size_t n = make_version(buf, id, 1, seed);
		if (aw_file_replace(name, buf, n, NULL, NULL) != AW_OK || ack_file(ack, id, 1) < 0)
			return -1;
	}
	return 0;
}

static int batch_loop(int ack, unsigned char *buf, uint64_t *seed)
{
	char args[NFILES][48], *argv[NFILES + 3] = { "atomicwrite", "batch" };
	for (uint64_t v = 1; !stopping(); v++) {
		for (uint32_t id = 0; id < NFILES; id++) {
			char path[32];
			snprintf(path, sizeof path, "/stage/file%u", id);
			if (stage(path, buf, make_version(buf, id, v, seed)) < 0)
				return 3;
			snprintf(args[id], sizeof args[id], "file%u=%s", id, path);
			argv[2 + id] = args[id];
		}
		argv[2 + NFILES] = NULL;
		if (run(argv) < 0)
			continue;
		for (uint32_t id = 0; id < NFILES; id++)
			if (ack_file(ack, id, v) < 0)
				return 4;
	}
	return 0;
}

/* backup and edit: one file per run, as the library's file loop. */
static int one_file_loop(int ack, bool edit, unsigned char *buf, uint64_t *seed)
{
	uint64_t version[NFILES] = { 0 };
	if (edit) {
		if (create_files(ack, NFILES, buf, seed) < 0)
			return 3;
		for (uint32_t id = 0; id < NFILES; id++)
			version[id] = 1;
		setenv("VISUAL", "cp /stage/new", 1);
	}
	for (uint64_t round = 0; !stopping(); round++) {
		uint32_t id = (uint32_t)(round % NFILES);
		char name[16];
		snprintf(name, sizeof name, "file%u", id);
		if (stage("/stage/new", buf, make_version(buf, id, ++version[id], seed)) < 0)
			return 3;
		char *backup[] = { "atomicwrite", "--backup", "--from=/stage/new", name, NULL };
		char *ed[] = { "atomicwrite", "edit", name, NULL };
		if (run(edit ? ed : backup) == 0 && ack_file(ack, id, version[id]) < 0)
			return 4;
	}
	return 0;
}

static int link_loop(int ack, bool exchange, unsigned char *buf, uint64_t *seed)
{
	if (create_files(ack, exchange ? 2 : NFILES, buf, seed) < 0)
		return 3;
	for (uint64_t r = 1; !stopping(); r++) {
		char target[16], line[48], mark[32];
		snprintf(target, sizeof target, "file%u", (unsigned)(r % NFILES));
		char *sym[] = { "atomicwrite", "symlink", target, "link", NULL };
		char *exc[] = { "atomicwrite", "exchange", "file0", "file1", NULL };
		if (run(exchange ? exc : sym) < 0)
			continue;
		snprintf(line, sizeof line, "%s %llu\n", exchange ? "EXC" : "LNK", (unsigned long long)r);
		snprintf(mark, sizeof mark, "%s-%llu", exchange ? "exc" : "lnk", (unsigned long long)r);
		if (acknowledge(ack, line, mark) < 0)
			return 4;
	}
	return 0;
}

/* A tree of version v in DIR (created), flushed if sync. */
static int make_tree(const char *dir, uint64_t v, bool sync)
{
	mkdir(dir, 0755);
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	for (int i = 0; i < 4; i++) {
		char name[16];
		snprintf(name, sizeof name, "part%d", i);
		unlinkat(fd, name, 0);
	}
	int r = fill_tree(fd, dir, &v);
	if (r == 0 && sync)
		r = syncfs(fd);
	close(fd);
	return r;
}

static int adopt_loop(int ack)
{
	if (make_tree("site", 1, true) < 0 || acknowledge(ack, "PUB 1\n", "pub-1") < 0)
		return 3;
	char *argv[] = { "atomicwrite", "publish", "--adopt", "--keep=2", "site", "/stage/tree", NULL };
	for (uint64_t v = 2; !stopping(); v++) {
		char line[48], mark[32];
		if (make_tree("/stage/tree", v, false) < 0)
			return 3;
		if (run(argv) < 0)
			continue;
		snprintf(line, sizeof line, "PUB %llu\n", (unsigned long long)v);
		snprintf(mark, sizeof mark, "pub-%llu", (unsigned long long)v);
		if (acknowledge(ack, line, mark) < 0)
			return 4;
	}
	return 0;
}

int cli_loop(int ack, const char *mode, uint64_t seed)
{
	static const char *const modes[] = { "batch", "backup", "edit", "symlink", "exchange", "adopt" };
	int m = -1;
	for (int i = 0; i < 6; i++)
		if (!strcmp(mode, modes[i]))
			m = i;
	if (m < 0)
		return -1;
	unsigned char *buf = malloc(sizeof(struct header) + MAX_BODY);
	if (!buf)
		return 3;
	mkdir("/stage", 0755);
	switch (m) {
	case 0: return batch_loop(ack, buf, &seed);
	case 1: return one_file_loop(ack, false, buf, &seed);
	case 2: return one_file_loop(ack, true, buf, &seed);
	case 3: return link_loop(ack, false, buf, &seed);
	case 4: return link_loop(ack, true, buf, &seed);
	default: return adopt_loop(ack);
	}
}
