/*
 * batch.c - many durable replacements for the price of few flushes.  The
 * protocol is in atomicwrite.h; the point is that the flushes, which cost
 * a device cache flush each when done one by one, are issued together:
 * from several threads at once (the filesystem folds them into shared
 * journal commits) or as one syncfs() of the whole filesystem.
 */
#include "internal.h"
#include "sys.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define AW__BATCH_THREADS 16
/* From this many files on one filesystem, one syncfs() beats per-file
 * fsyncs on ext4, XFS and btrfs (bench/batch/README.md). */
#define AW__BATCH_SYNCFS_MIN 16

struct aw_batch {
	aw_batch_options o;
	struct aw_file **files;
	size_t n, cap;
};

int aw_batch_new(aw_batch **ret, const aw_batch_options *opts, aw_error *e)
{
	static const aw_batch_options defaults;
	if (!ret)
		return aw__fail(e, AW_STEP_ARGS, NULL, EINVAL);
	if (!opts)
		opts = &defaults;
	if ((opts->flags & AW_LOCK) || opts->flush > AW_BATCH_SYNCFS)
		return aw__fail(e, AW_STEP_ARGS, NULL, EINVAL);
	aw_batch *b = calloc(1, sizeof *b);
	if (!b)
		return aw__fail(e, AW_STEP_ARGS, NULL, ENOMEM);
	b->o = *opts;
	*ret = b;
	return 0;
}

int aw_batch_add(aw_batch *b, aw_file **ret, const char *path, aw_error *e)
{
	if (!b || !ret)
		return aw__fail(e, AW_STEP_ARGS, path, EINVAL);
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct aw_file **files = realloc(b->files, cap * sizeof *files);
		if (!files)
			return aw__fail(e, AW_STEP_ARGS, path, ENOMEM);
		b->files = files;
		b->cap = cap;
	}
	aw_options o = { b->o.durability, b->o.flags, 0 };
	aw_file *f;
	if (aw_begin(&f, path, &o, e) < 0)
		return -1;
	b->files[b->n++] = f;
	*ret = f;
	return 0;
}

int aw_batch_add_buffer(aw_batch *b, const char *path, const void *buf,
                        size_t len, aw_error *e)
{
	aw_file *f;
	if (!buf && len)
		return aw__fail(e, AW_STEP_ARGS, path, EINVAL);
	if (aw_batch_add(b, &f, path, e) < 0)
		return -1;
	/* A failed write marks the handle; the commit then fails the whole
	 * batch before touching anything. */
	return aw_write(f, buf, len, e);
}

size_t aw_batch_size(const aw_batch *b)
{
	return b ? b->n : 0;
}

void aw_batch_discard(aw_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		aw__release(b->files[i]);
	free(b->files);
	free(b);
}

/* ---- flushing ---------------------------------------------------------- */

struct flush_job {
	struct aw_file **files;
	size_t n;
	atomic_size_t next;
	atomic_int failed;      /* index + 1 of a file whose fsync failed */
	atomic_int err;
};

static void *flush_worker(void *p)
{
	struct flush_job *j = p;
	for (;;) {
		size_t i = atomic_fetch_add(&j->next, 1);
		if (i >= j->n || atomic_load(&j->failed))
			return NULL;
		if (aw__fsync(j->files[i]->fd) < 0) {
			int none = 0;
			if (atomic_compare_exchange_strong(&j->failed, &none, (int)i + 1))
				atomic_store(&j->err, errno);
		}
	}
}

/* fsyncs every file, from up to threads threads.  Returns the index of a
 * file whose fsync failed (errno set), or -1 when all succeeded. */
static long flush_files(struct aw_file **files, size_t n, size_t threads)
{
	struct flush_job j = { files, n, 0, 0, 0 };
	pthread_t t[AW__BATCH_THREADS];
	size_t started = 0;
	if (threads > AW__BATCH_THREADS)
		threads = AW__BATCH_THREADS;
	if (threads > n)
		threads = n;
	/* This thread works too; a pool that cannot grow just means fewer
	 * flushes in flight. */
	for (; started + 1 < threads; started++)
		if (pthread_create(&t[started], NULL, flush_worker, &j) != 0)
			break;
	flush_worker(&j);
	for (size_t i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	int failed = atomic_load(&j.failed);
	if (failed) {
		errno = atomic_load(&j.err);
		return failed - 1;
	}
	return -1;
}

static bool same_fs(const struct aw_file *a, const struct aw_file *b)
{
	struct stat x, y;
	return aw__fstat(a->dirfd, &x) == 0 && aw__fstat(b->dirfd, &y) == 0 &&
	       x.st_dev == y.st_dev;
}

/* syncfs() once for each filesystem the batch touches.  Returns the index
 * of a file on a filesystem whose syncfs failed, or -1. */
static long flush_by_syncfs(struct aw_file **files, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool done = false;
		for (size_t k = 0; k < i && !done; k++)
			done = same_fs(files[k], files[i]);
		if (!done && aw__syncfs(files[i]->dirfd) < 0)
			return (long)i;
	}
	return -1;
}

static aw_batch_flush choose_flush(const aw_batch *b)
{
	if (b->o.flush != AW_BATCH_AUTO)
		return b->o.flush;
	return b->n >= AW__BATCH_SYNCFS_MIN ? AW_BATCH_SYNCFS :
	       b->n > 1 ? AW_BATCH_PARALLEL : AW_BATCH_SEQUENTIAL;
}

static long flush(const aw_batch *b)
{
	switch (choose_flush(b)) {
	case AW_BATCH_SYNCFS: {
		long r = flush_by_syncfs(b->files, b->n);
		/* Where there is no syncfs, flush file by file. */
		if (r >= 0 && errno == ENOSYS)
			return flush_files(b->files, b->n, AW__BATCH_THREADS);
		return r;
	}
	case AW_BATCH_PARALLEL:
		return flush_files(b->files, b->n, AW__BATCH_THREADS);
	default:
		return flush_files(b->files, b->n, 1);
	}
}

/* ---- commit ------------------------------------------------------------ */

static void set_all(int *results, size_t n, int value)
{
	for (size_t i = 0; results && i < n; i++)
		results[i] = value;
}

int aw_batch_commit(aw_batch *b, int *results, aw_error *e)
{
	if (!b)
		return aw__fail(e, AW_STEP_ARGS, NULL, EINVAL);
	size_t n = b->n;
	int result = AW_OK;
	set_all(results, n, AW_FAILED);

	/* 1. Name every temporary file and give it its metadata. */
	for (size_t i = 0; i < n; i++)
		if (aw__prepare(b->files[i], e) < 0)
			goto abandon;
	/* 2. Flush them all, before any target changes. */
	if (b->o.durability != AW_DURABILITY_NONE) {
		long bad = flush(b);
		if (bad >= 0) {
			aw__fail(e, AW_STEP_SYNC_TEMP, b->files[bad]->path, errno);
			goto abandon;
		}
	}
	/* 3. Rename; a failure stops here, what is renamed stays. */
	size_t renamed = 0;
	for (; renamed < n; renamed++) {
		if (aw__install(b->files[renamed], e) < 0) {
			result = AW_FAILED;
			break;
		}
		if (results)
			results[renamed] = AW_OK;
	}
	/* 4. One fsync per distinct directory of the renamed entries. */
	if (b->o.durability == AW_DURABILITY_FULL) {
		for (size_t i = 0; i < renamed; i++) {
			struct stat st;
			bool seen = false;
			if (aw__fstat(b->files[i]->dirfd, &st) == 0) {
				for (size_t k = 0; k < i && !seen; k++) {
					struct stat sk;
					seen = aw__fstat(b->files[k]->dirfd, &sk) == 0 &&
					       sk.st_dev == st.st_dev && sk.st_ino == st.st_ino;
				}
			}
			if (seen)
				continue;
			if (aw__fsync(b->files[i]->dirfd) < 0) {
				int err = errno;
				/* Every renamed entry of this directory. */
				for (size_t k = i; k < renamed; k++) {
					struct stat sk;
					if (results && aw__fstat(b->files[k]->dirfd, &sk) == 0 &&
					    sk.st_dev == st.st_dev && sk.st_ino == st.st_ino)
						results[k] = AW_UNSYNCED;
				}
				if (result == AW_OK) {
					aw__fail(e, AW_STEP_SYNC_DIR, b->files[i]->path, err);
					result = AW_UNSYNCED;
				}
			}
		}
	}
	aw_batch_discard(b);
	return result;

abandon:
	aw_batch_discard(b);
	return AW_FAILED;
}
