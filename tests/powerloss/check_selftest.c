/* SPDX-License-Identifier: MIT */
/*
 * check_selftest.c - the power-loss checker must see what it claims to:
 * a directory is crafted with one file of each kind the workload could
 * leave after a bad power cut (torn, empty, zero-filled, missing, stale, a
 * corrupted body) next to good ones, with an acknowledgement log whose
 * last line was cut short; then check's verdict line must count each kind
 * exactly.  A checker that counted nothing would make every campaign pass.
 *
 *     check_selftest CHECK_BINARY SCRATCH_DIR
 *
 * Prints "checker: N passed, N failed".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "version_format.h"


enum damage { GOOD, TRUNCATED, EMPTY, ZEROS, FLIPPED };

/* Version VERSION of file ID, damaged as D, at DIR/NAME. */
static void put_as(const char *dir, const char *name, unsigned id, uint64_t version, size_t len,
                   enum damage d)
{
	unsigned char *buf = calloc(1, sizeof(struct header) + len);
	struct header h = { VERSION_MAGIC, id, 0, version, len, 0 };
	for (size_t i = 0; i < len; i++)
		buf[sizeof h + i] = (unsigned char)(version * 131 + id * 7 + i);
	h.checksum = fnv1a(buf + sizeof h, len);
	memcpy(buf, &h, sizeof h);
	size_t n = sizeof h + len;
	if (d == TRUNCATED)
		n -= len / 2;
	else if (d == EMPTY)
		n = 0;
	else if (d == ZEROS)
		memset(buf, 0, n);
	else if (d == FLIPPED)
		buf[sizeof h + len / 2] ^= 1;
	char path[4096];
	int plen = snprintf(path, sizeof path, "%s/%s", dir, name);
	if (plen < 0 || (size_t)plen >= sizeof path) {
		fprintf(stderr, "%s/%s: name too long\n", dir, name);
		exit(2);
	}
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
	free(buf);
}

static void put(const char *dir, unsigned id, uint64_t version, size_t len, enum damage d)
{
	char name[32];
	snprintf(name, sizeof name, "file%u", id);
	put_as(dir, name, id, version, len, d);
}

static void drop(const char *dir, unsigned id)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/file%u", dir, id);
	unlink(path);
}

static int passed, failed;

static void expect(const char *what, const char *cmd, const char *want)
{
	char got[256] = "";
	FILE *p = popen(cmd, "r");
	char line[256];
	while (p && fgets(line, sizeof line, p))
		if (strncmp(line, "files ", 6) == 0)
			snprintf(got, sizeof got, "%s", line);
	int status = p ? pclose(p) : -1;
	got[strcspn(got, "\n")] = '\0';
	int want_fail = strstr(want, " 0 missing 0 stale 0") == NULL ||
	                strstr(want, "torn 0 empty 0 zero 0") == NULL;
	if (strcmp(got, want) == 0 && (status != 0) == want_fail) {
		printf("ok   %s\n", what);
		passed++;
	} else {
		printf("FAIL %s: got '%s' (status %d), want '%s'\n", what, got, status, want);
		failed++;
	}
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

/* A tree of four parts in DIR/SUB, part 2 at version V2, the rest at V. */
static void tree(const char *dir, const char *sub, int v, int v2)
{
	char path[8192], text[64];
	snprintf(path, sizeof path, "%s/%s", dir, sub);
	mkdir(path, 0755);
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof path, "%s/%s/part%d", dir, sub, i);
		snprintf(text, sizeof text, "version %d part %d\n", i == 2 ? v2 : v, i);
		write_text(path, text);
	}
}

/* The workloads' own rules (check's MODE argument), in a fresh DIR/SUB. */
static void modes(const char *check, const char *top)
{
	char dir[4096], acks[4200], cmd[16384], path[8192];
	snprintf(dir, sizeof dir, "%s/modes", top);
	mkdir(dir, 0755);
	snprintf(acks, sizeof acks, "%s/acks", dir);

	/* backup: file0~ good, file1~ missing after version 3, file2~ not
	 * older than file2, file3 at version 1 needs none, file4~ torn. */
	write_text(acks, "ACK 0 3\nACK 1 3\nACK 2 3\nACK 3 1\n");
	for (unsigned id = 0; id < 3; id++)
		put(dir, id, 3, 200, GOOD);
	put(dir, 3, 1, 200, GOOD);
	put_as(dir, "file0~", 0, 2, 100, GOOD);
	put_as(dir, "file2~", 2, 3, 100, GOOD);
	put_as(dir, "file4~", 4, 1, 100, TRUNCATED);
	snprintf(cmd, sizeof cmd, "%s %s %s backup", check, dir, acks);
	expect("backup: a missing, a torn, a not older backup", cmd,
	       "files 8 torn 1 empty 0 zero 0 missing 1 stale 1");

	/* symlink: run 5 acknowledged, so link -> file5 or file6 only. */
	for (unsigned id = 0; id < 8; id++)
		put(dir, id, 1, 50, GOOD);
	write_text(acks, "ACK 0 1\nACK 1 1\nACK 2 1\nACK 3 1\nACK 4 1\nACK 5 1\nACK 6 1\n"
	                 "ACK 7 1\nLNK 5\n");
	snprintf(path, sizeof path, "%s/link", dir);
	snprintf(cmd, sizeof cmd, "%s %s %s symlink", check, dir, acks);
	if (symlink("file6", path) < 0)
		exit(2);
	expect("symlink: the next run's target passes", cmd,
	       "files 9 torn 0 empty 0 zero 0 missing 0 stale 0");
	unlink(path);
	if (symlink("file4", path) < 0)
		exit(2);
	expect("symlink: an older run's target is stale", cmd,
	       "files 9 torn 0 empty 0 zero 0 missing 0 stale 1");
	unlink(path);
	expect("symlink: no link after an acknowledged run is missing", cmd,
	       "files 9 torn 0 empty 0 zero 0 missing 1 stale 0");

	/* exchange: the two files swapped pass; one cut short is torn. */
	write_text(acks, "ACK 0 1\nACK 1 1\nEXC 3\n");
	put_as(dir, "file0", 1, 1, 80, GOOD);
	put_as(dir, "file1", 0, 1, 80, GOOD);
	snprintf(cmd, sizeof cmd, "%s %s %s exchange", check, dir, acks);
	expect("exchange: the two files swapped pass", cmd,
	       "files 8 torn 0 empty 0 zero 0 missing 0 stale 0");
	put_as(dir, "file1", 0, 1, 80, TRUNCATED);
	expect("exchange: one cut short is torn", cmd,
	       "files 8 torn 1 empty 0 zero 0 missing 0 stale 0");

	/* rollback: site -> a complete version 2 (acknowledged up to 2), one
	 * kept version mixed; then site at a version never acknowledged. */
	snprintf(dir, sizeof dir, "%s/rolled", top);
	mkdir(dir, 0755);
	snprintf(acks, sizeof acks, "%s/acks", dir);
	write_text(acks, "PUB 1\nPUB 2\n");
	tree(dir, ".awver-a", 2, 2);
	tree(dir, ".awver-b", 1, 2);
	snprintf(path, sizeof path, "%s/site", dir);
	if (symlink(".awver-a", path) < 0)
		exit(2);
	snprintf(cmd, sizeof cmd, "%s %s %s rollback", check, dir, acks);
	expect("rollback: a partial kept version is torn", cmd,
	       "files 3 torn 1 empty 0 zero 0 missing 0 stale 0");
	tree(dir, ".awver-b", 1, 1);
	tree(dir, ".awver-a", 3, 3);
	expect("rollback: a version never acknowledged is stale", cmd,
	       "files 3 torn 0 empty 0 zero 0 missing 0 stale 1");
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	const char *check = argv[1], *dir = argv[2];
	char cmd[8192], acks[4096];
	snprintf(acks, sizeof acks, "%s/acks", dir);

	/* Every kind at once: file0 good, file1 stale, file2 empty, file3
	 * zero-filled, file4 cut short, file5 missing, file6 a flipped bit,
	 * file7 newer than acknowledged (fine). */
	put(dir, 0, 5, 300, GOOD);
	put(dir, 1, 3, 300, GOOD);
	put(dir, 2, 5, 300, EMPTY);
	put(dir, 3, 5, 300, ZEROS);
	put(dir, 4, 5, 300, TRUNCATED);
	put(dir, 6, 5, 300, FLIPPED);
	put(dir, 7, 6, 300, GOOD);
	FILE *a = fopen(acks, "w");
	for (unsigned id = 0; id < 8; id++)
		fprintf(a, "ACK %u 5\n", id);
	/* Cut short by the kill: not an acknowledgement, or file7 (at 6)
	 * would count as stale. */
	fprintf(a, "ACK 7 9");
	fclose(a);
	snprintf(cmd, sizeof cmd, "%s %s %s", check, dir, acks);
	expect("each kind of damage is counted once", cmd,
	       "files 8 torn 2 empty 1 zero 1 missing 1 stale 1");

	/* Repaired: all good, none stale. */
	for (unsigned id = 0; id < 8; id++)
		put(dir, id, 5, id * 1000, GOOD);
	expect("complete, current versions pass", cmd,
	       "files 8 torn 0 empty 0 zero 0 missing 0 stale 0");

	/* A file never acknowledged may be missing, or hold any complete
	 * version, but must not be damaged. */
	a = fopen(acks, "w");
	fprintf(a, "ACK 0 5\n");
	fclose(a);
	for (unsigned id = 1; id < 8; id++)
		drop(dir, id);
	put(dir, 2, 1, 300, GOOD);
	put(dir, 3, 5, 300, EMPTY);
	expect("files never acknowledged: absent or complete, never damaged", cmd,
	       "files 3 torn 0 empty 1 zero 0 missing 0 stale 0");
	for (unsigned id = 0; id < 8; id++)
		drop(dir, id);

	/* The published tree: mixed versions are torn, older is stale. */
	char site[4096];
	snprintf(site, sizeof site, "%s/site", dir);
	mkdir(site, 0755);
	a = fopen(acks, "w");
	fprintf(a, "PUB 4\n");
	fclose(a);
	for (int i = 0; i < 4; i++) {
		char path[8192];
		snprintf(path, sizeof path, "%s/part%d", site, i);
		FILE *f = fopen(path, "w");
		fprintf(f, "version %d part %d\n", i == 2 ? 3 : 4, i);
		fclose(f);
	}
	expect("a tree of mixed versions is torn", cmd,
	       "files 1 torn 1 empty 0 zero 0 missing 0 stale 0");
	for (int i = 0; i < 4; i++) {
		char path[8192];
		snprintf(path, sizeof path, "%s/part%d", site, i);
		FILE *f = fopen(path, "w");
		fprintf(f, "version 3 part %d\n", i);
		fclose(f);
	}
	expect("a whole tree older than acknowledged is stale", cmd,
	       "files 1 torn 0 empty 0 zero 0 missing 0 stale 1");

	modes(check, dir);
	printf("checker: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
