/* SPDX-License-Identifier: MIT */
/*
 * fuzz_options.c - libFuzzer target for the library's option and name
 * handling: aw_file_begin_at() with fuzzed flags, durability, mode and name,
 * then a write, and a commit or a discard; aw_link_publish() with fuzzed
 * options; aw_error_format() on whatever came back.  Everything happens in
 * a scratch directory; names with a '/' are skipped.  After each input the
 * directory must hold no temporary file: a leak is a crash.
 */
#include <atomicwrite.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int dirfd_;
static char dir[4096];

void fuzz_clear(const char *dir);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof dir, "%s/aw-fuzz-opt-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir) || chdir(dir) < 0)
		abort();
	dirfd_ = open(".", O_RDONLY | O_DIRECTORY);
	return 0;
}

static int fill(int fd, const char *path, void *ctx)
{
	(void)path;
	return *(const uint8_t *)ctx & 1 ? -1 : openat(fd, "x", O_CREAT | O_WRONLY, 0600) < 0 ? -1 : 0;
}

static void check_no_temps(void)
{
	DIR *d = opendir(".");
	struct dirent *de;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, ".awtmp-", 7))
			abort();
	closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 12 || size > 400)
		return 0;
	aw_options o;
	memcpy(&o.flags, data, 4);
	o.durability = (aw_durability)(data[4] % 4);   /* 3 is invalid */
	o.mode = (mode_t)(data[5] | data[6] << 8);
	uint8_t action = data[7];
	char name[300];
	size_t n = size - 12 < sizeof name - 1 ? size - 12 : sizeof name - 1;
	memcpy(name, data + 12, n);
	name[n] = '\0';
	/* A target named like our temporary files would be taken for a
	 * leak below (and is fair game for aw_dir_sweep(), as documented). */
	if (strchr(name, '/') || !strcmp(name, "..") || !strcmp(name, ".") ||
	    !strncmp(name, ".awtmp-", 7) || !strncmp(name, ".awver-", 7))
		return 0;
	/* Keep clear of flags that would follow links out or block. */
	o.flags &= ~(unsigned)AW_FOLLOW_SYMLINKS;

	aw_error e;
	char msg[5000];
	aw_file *f;
	if (aw_file_begin_at(&f, dirfd_, name, &o, &e) == 0) {
		aw_file_write(f, data, size, &e);
		if (action & 1)
			aw_file_discard(f);
		else if (aw_file_commit(f, &e) != AW_OK)
			aw_error_format(&e, msg, sizeof msg);
	} else {
		aw_error_format(&e, msg, sizeof msg);
	}
	if (action & 2) {
		aw_publish_options po = { (aw_durability)(data[8] % 4), data[9], data[10], 0 };
		uint8_t how = data[11];
		if (aw_link_publish(name, fill, &how, &po, &e) != AW_OK)
			aw_error_format(&e, msg, sizeof msg);
	}
	e.step = (aw_step)data[11];
	e.err = data[10];
	aw_error_format(&e, msg, sizeof msg);
	aw_step_name((aw_step)data[9]);
	check_no_temps();
	fuzz_clear(dir);
	return 0;
}
