/* SPDX-License-Identifier: MIT */
/*
 * test_batch.c - batches: every file replaced, the flushes each strategy
 * promises (counted through the seam), one fsync per directory, and a
 * fault at every call leaving each target old or new, nothing behind, and
 * nothing touched at all when the failure comes before the renames.
 */
#include "harness.h"
#include "atomicwrite.h"
#include "sys.h"

#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#define N 20

static void name_of(char *buf, size_t size, int i)
{
	snprintf(buf, size, "%s/f%02d", i % 2 ? "d1" : "d2", i);
}

static void prepare(void)
{
	aw__fault_reset();
	mkdir("d1", 0755);
	mkdir("d2", 0755);
	for (int i = 0; i < N; i++) {
		char p[32];
		name_of(p, sizeof p, i);
		th_write_file(p, "old", 3);
	}
}

/* Stages N files; NULL on failure (e filled). */
static aw_batch *stage(aw_batch_flush how, aw_durability d, aw_error *e)
{
	aw_batch *b;
	aw_batch_options o = { .durability = d, .flush = how };
	if (aw_batch_new(&b, &o, e) < 0)
		return NULL;
	for (int i = 0; i < N; i++) {
		char p[32], data[32];
		name_of(p, sizeof p, i);
		int n = snprintf(data, sizeof data, "new %d", i);
		if (i % 3 == 0) {
			aw_file *f;
			if (aw_batch_add(b, &f, p, e) < 0 || aw_file_write(f, data, (size_t)n, e) < 0) {
				aw_batch_discard(b);
				return NULL;
			}
		} else if (aw_batch_add_buffer(b, p, data, (size_t)n, e) < 0) {
			aw_batch_discard(b);
			return NULL;
		}
	}
	ASSERT_EQ(aw_batch_size(b), N);
	return b;
}

static int run(aw_batch_flush how, aw_durability d, int *results, aw_error *e)
{
	aw_batch *b = stage(how, d, e);
	return b ? aw_batch_commit(b, results, e) : AW_FAILED;
}

/* 1 if entry i holds its new contents, 0 if the old, fails otherwise. */
static int state(int i)
{
	char p[32], expect[32];
	name_of(p, sizeof p, i);
	snprintf(expect, sizeof expect, "new %d", i);
	size_t len;
	char *got = th_read_file(p, &len);
	int r = strcmp(got, "old") == 0 ? 0 : strcmp(got, expect) == 0 ? 1 : -1;
	if (r < 0)
		th_fail(__FILE__, __LINE__, "%s holds '%s'", p, got);
	free(got);
	return r;
}

TEST(batch_replaces_every_file_with_each_flush_strategy)
{
	static const aw_batch_flush hows[] = { AW_BATCH_AUTO, AW_BATCH_SEQUENTIAL,
	                                       AW_BATCH_PARALLEL, AW_BATCH_SYNCFS };
	for (size_t h = 0; h < 4; h++) {
		prepare();
		int results[N];
		aw_error e;
		ASSERT_AW_OK(run(hows[h], AW_DURABILITY_FULL, results, &e));
		for (int i = 0; i < N; i++) {
			ASSERT_EQ(state(i), 1);
			ASSERT_AW_OK(results[i]);
		}
		ASSERT_NO_TEMPS("d1");
		ASSERT_NO_TEMPS("d2");
	}
}

/* The flushes of one batch, from the seam's trace. */
static void count(aw_batch_flush how, aw_durability d, int *fsyncs, int *syncfs,
                  int *fsyncs_after_rename)
{
	prepare();
	/* The commit's calls only: where there is no O_TMPFILE, staging
	 * renames each new file to its marked name (tmpname.c). */
	aw_batch *b = stage(how, d, NULL);
	ASSERT_TRUE(b != NULL);
	aw__fault_reset();
	ASSERT_AW_OK(aw_batch_commit(b, NULL, NULL));
	int kinds[4096];
	size_t n = aw__fault_trace(kinds, 4096);
	*fsyncs = *syncfs = *fsyncs_after_rename = 0;
	bool renamed = false;
	for (size_t i = 0; i < n; i++) {
		renamed |= kinds[i] == AW_SYS_RENAMEAT;
		if (kinds[i] == AW_SYS_FSYNC)
			(*(renamed ? fsyncs_after_rename : fsyncs))++;
		if (kinds[i] == AW_SYS_SYNCFS)
			(*syncfs)++;
	}
}

TEST(batch_flushes_as_promised_and_one_fsync_per_directory)
{
	int f, s, after;
	count(AW_BATCH_SEQUENTIAL, AW_DURABILITY_FULL, &f, &s, &after);
	ASSERT_EQ(f, N);
	ASSERT_EQ(s, 0);
	ASSERT_EQ(after, 2);   /* d1 and d2 */
	count(AW_BATCH_PARALLEL, AW_DURABILITY_FULL, &f, &s, &after);
	ASSERT_EQ(f, N);
	ASSERT_EQ(after, 2);
	count(AW_BATCH_SYNCFS, AW_DURABILITY_FULL, &f, &s, &after);
#ifdef AW_FORCE_POSIX
	/* No syncfs: every file is fsynced instead. */
	ASSERT_EQ(f, N);
	ASSERT_EQ(s, 0);
#else
	ASSERT_EQ(f, 0);
	ASSERT_EQ(s, 1);       /* both directories are on one filesystem */
#endif
	ASSERT_EQ(after, 2);
	count(AW_BATCH_AUTO, AW_DURABILITY_FULL, &f, &s, &after);
#ifndef AW_FORCE_POSIX
	ASSERT_EQ(s, 1);       /* N >= 16 */
#endif
	count(AW_BATCH_PARALLEL, AW_DURABILITY_FILE, &f, &s, &after);
	ASSERT_EQ(f, N);
	ASSERT_EQ(after, 0);
	count(AW_BATCH_SYNCFS, AW_DURABILITY_NONE, &f, &s, &after);
	ASSERT_EQ(f + s + after, 0);
}

/* Every system call of a durable batch failed in turn, once and from then
 * on.  One test per flush strategy: each is a few hundred durable batches,
 * and one test's time limit must not have to cover all three. */
static void fault_at_every_call(aw_batch_flush how)
{
	unsigned cases = 0;
	prepare();
	ASSERT_AW_OK(run(how, AW_DURABILITY_FULL, NULL, NULL));
	unsigned long calls = aw__fault_calls(-1);
	for (unsigned long nth = 1; nth <= calls; nth++) {
		for (int persistent = 0; persistent <= 1; persistent++) {
			prepare();
			struct aw_fault_plan plan = { -1, nth, EIO, persistent };
			aw__fault_set(&plan);
			int results[N];
			for (int i = 0; i < N; i++)
				results[i] = AW_FAILED;   /* if run() fails early */
			aw_error e = { 0 };
			int r = run(how, AW_DURABILITY_FULL, results, &e);
			int kind = aw__fault_fired_kind();
			aw__fault_reset();
			cases++;
			int replaced = 0;
			for (int i = 0; i < N; i++) {
				int st = state(i);
				replaced += st;
				/* A result of AW_OK/UNSYNCED means replaced. */
				if (r != AW_FAILED || results[i] != AW_FAILED)
					ASSERT_EQ(st, 1);
			}
			if (r == AW_OK && kind == AW_SYS_FSYNC)
				th_fail(__FILE__, __LINE__, "call %lu: success after a failed fsync", nth);
			/* Failures before the renames touch nothing. */
			if (r == AW_FAILED && kind != AW_SYS_RENAMEAT && replaced != 0)
				th_fail(__FILE__, __LINE__, "call %lu (%s): failed, yet %d replaced",
				        nth, aw__sys_call_name(kind), replaced);
			if (r != AW_OK && e.err != EIO)
				th_fail(__FILE__, __LINE__, "call %lu: errno %d", nth, e.err);
			if (!persistent || kind != AW_SYS_UNLINKAT) {
				ASSERT_NO_TEMPS("d1");
				ASSERT_NO_TEMPS("d2");
			}
		}
	}
	printf("    %u injected faults checked\n", cases);
}

TEST(batch_fault_at_every_call_sequential)
{
	fault_at_every_call(AW_BATCH_SEQUENTIAL);
}

TEST(batch_fault_at_every_call_parallel)
{
	fault_at_every_call(AW_BATCH_PARALLEL);
}

TEST(batch_fault_at_every_call_syncfs)
{
	fault_at_every_call(AW_BATCH_SYNCFS);
}

TEST(batch_rejects_bad_options_and_discards_cleanly)
{
	aw_batch *b;
	aw_batch_options locked = { .flags = AW_LOCK };
	ASSERT_ERRNO(aw_batch_new(&b, &locked, NULL), EINVAL);
	aw_batch_options bad = { .flush = (aw_batch_flush)9 };
	ASSERT_ERRNO(aw_batch_new(&b, &bad, NULL), EINVAL);
	prepare();
	ASSERT_OK(aw_batch_new(&b, NULL, NULL));
	ASSERT_OK(aw_batch_add_buffer(b, "d1/f01", "x", 1, NULL));
	ASSERT_OK(aw_batch_add_buffer(b, "d1/brand-new", "y", 1, NULL));
	aw_error e;
	ASSERT_ERRNO(aw_batch_add_buffer(b, "missing/x", "z", 1, &e), ENOENT);
	aw_batch_discard(b);
	ASSERT_EQ(state(1), 0);
	ASSERT_EQ(access("d1/brand-new", F_OK), -1);
	ASSERT_NO_TEMPS("d1");
	aw_batch_discard(NULL);
	ASSERT_EQ(aw_batch_commit(NULL, NULL, &e), AW_FAILED);
}
