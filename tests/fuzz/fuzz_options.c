/* SPDX-License-Identifier: MIT */
/*
 * fuzz_options.c - libFuzzer target for the library's option and name
 * handling: aw_file_begin_at() with fuzzed size, flags, durability, mode
 * and name, then a write, and a commit or a discard; aw_batch_new() and
 * aw_link_publish_at() with fuzzed options (the size field too: 0, the
 * struct's, too small, or larger with a zero or non-zero tail);
 * aw_error_format() on whatever came back.  Everything happens in
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

/* A caller's struct as a newer (or broken) header may lay it out: the
 * struct, then bytes the library does not know. */
#define GROWN(T) struct { T o; unsigned char tail[16]; }

/* The size field for selector sel: 0, the struct's, one too small, 8 or
 * 16 more (the tail then holds tail_byte at its last used position). */
static size_t fuzz_size(uint8_t sel, size_t size, unsigned char *tail,
                        uint8_t tail_byte)
{
	memset(tail, 0, 16);
	switch (sel % 5) {
	case 0: return 0;
	case 1: return size;
	case 2: return size - 1;
	case 3: tail[7] = tail_byte; return size + 8;
	default: tail[15] = tail_byte; return size + 16;
	}
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
	GROWN(aw_options) grown;
	aw_options o = { 0 };
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
	o.size = fuzz_size(data[8] >> 4, sizeof o, grown.tail, data[9]);
	grown.o = o;

	aw_error e;
	char msg[AW_ERROR_FORMAT_SIZE];
	aw_file *f;
	if (aw_file_begin_at(&f, dirfd_, name, &grown.o, &e) == 0) {
		aw_file_write(f, data, size, &e);
		if (action & 1)
			aw_file_discard(f);
		else if (aw_file_commit(f, &e) != AW_OK)
			aw_error_format(&e, msg, sizeof msg);
	} else {
		aw_error_format(&e, msg, sizeof msg);
	}
	if (action & 2) {
		GROWN(aw_publish_options) pg;
		aw_publish_options po = { 0 };
		po.durability = (aw_durability)(data[8] % 4);
		po.flags = data[9];
		po.keep = data[10];
		po.mode = (mode_t)(data[5] | data[6] << 8);
		po.size = fuzz_size(data[11] >> 4, sizeof po, pg.tail, data[7]);
		pg.o = po;
		uint8_t how = data[11];
		if (aw_link_publish_at(dirfd_, name, fill, &how, &pg.o, &e) != AW_OK)
			aw_error_format(&e, msg, sizeof msg);
	}
	if (action & 4) {
		GROWN(aw_batch_options) bg;
		aw_batch_options bo = { 0 };
		bo.durability = o.durability;
		bo.flags = o.flags;
		bo.mode = o.mode;
		bo.flush = (aw_batch_flush)(data[10] % 5);   /* 4 is invalid */
		bo.size = fuzz_size(data[8] >> 4, sizeof bo, bg.tail, data[9]);
		bg.o = bo;
		aw_batch *b;
		if (aw_batch_new(&b, &bg.o, &e) == 0) {
			if (aw_batch_add_buffer_at(b, dirfd_, name, data, size, &e) < 0)
				aw_batch_discard(b);
			else if (aw_batch_commit(b, NULL, &e) != AW_OK)
				aw_error_format(&e, msg, sizeof msg);
		} else {
			aw_error_format(&e, msg, sizeof msg);
		}
	}
	e.step = (aw_step)data[11];
	e.err = data[10];
	aw_error_format(&e, msg, sizeof msg);
	aw_step_name((aw_step)data[9]);
	check_no_temps();
	fuzz_clear(dir);
	return 0;
}
