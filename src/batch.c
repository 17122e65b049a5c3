/* SPDX-License-Identifier: MIT */
/*
 * batch.c - many durable replacements for the price of few flushes.  The
 * protocol is in atomicwrite.h; the point is that the flushes, which cost
 * a device cache flush each when done one by one, are issued together:
 * from several threads at once (the filesystem folds them into shared
 * journal commits) or as one syncfs() of the whole filesystem.
 *
 * Descriptors.  A batch of 100,000 files must fit the usual limit of 1024
 * descriptors, so it holds one descriptor per distinct directory (shared by
 * all its entries there) and at most AW__BATCH_OPEN_MAX temporary files
 * open.  Beyond that the oldest open temporary is given its name and
 * closed; writing to it again (aw_file_write(), aw_file_copy_from(), aw_file_fd()) or
 * committing it reopens it by name, O_NOFOLLOW, and refuses a file that is
 * not the inode it closed (ESTALE).  With syncfs() nothing is reopened to
 * be flushed; with per-file fsyncs the entries are prepared and flushed
 * AW__BATCH_OPEN_MAX at a time, before any rename.
 *
 * Liveness.  A closed temporary has no writer's flock() on it, so it
 * carries the batch's tag in its name, and in its directory the batch holds
 * a lock file named with the same tag (".awtmp-INO-TAG-", empty target:
 * one inode per filesystem, hard-linked into each directory, LOCK_EX held
 * for the batch's life).  aw_dir_sweep() leaves every temporary whose tag a
 * held lock carries.  The lock is linked into a directory before the first
 * tagged name appears there and removed after the last one has gone (see
 * sweep.c for why a sweep cannot miss it); a killed batch's lock, unlocked,
 * goes with its temporaries at the next sweep.
 */
#include "internal.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AW__BATCH_THREADS 16
/* From this many files on one filesystem, one syncfs() beats per-file
 * fsyncs on ext4, XFS and btrfs (bench/batch/README.md). */
#define AW__BATCH_SYNCFS_MIN 16

#ifdef AW_TESTING
size_t aw__batch_open_max = AW__BATCH_OPEN_MAX;
#define BATCH_OPEN_MAX aw__batch_open_max
#else
#define BATCH_OPEN_MAX ((size_t)AW__BATCH_OPEN_MAX)
#endif

/* A batch's lock inode on one filesystem. */
struct batch_lock {
	dev_t dev;
	int fd;                     /* LOCK_EX held */
	int dirfd;                  /* a directory it is linked in */
	char name[NAME_MAX + 1];
};

/* A distinct directory of the batch's entries. */
struct batch_dir {
	dev_t dev;
	ino_t ino;
	int fd;
	int lock;                   /* index in locks of the one linked here, or -1 */
	int lock_slot;              /* the link's cleanup registry slot */
	bool renamed;               /* an entry here was renamed (fsync it) */
	bool unsynced;              /* its fsync failed */
};

struct aw_batch {
	aw_batch_options o;
	struct aw_file **files;
	size_t n, cap;
	struct batch_dir *dirs;
	size_t ndirs, dircap;
	size_t *hash;               /* open addressing: dir index + 1, or 0 */
	size_t hashcap;
	struct batch_lock *locks;
	size_t nlocks, lockcap;
	char tag[AW__TAG_LEN + 1];
	/* the open temporaries, oldest first (a ring) */
	struct aw_file **ring;
	size_t ring_head, ring_len, ring_cap;
	bool evicted;               /* some temporary was closed */
};

int aw_batch_new(aw_batch **ret, const aw_batch_options *opts, aw_error *e)
{
	aw_batch_options o;
	if (!ret)
		return aw__fail(e, AW_STEP_ARGS, NULL, EINVAL);
	if (aw__batch_options(&o, opts, e) < 0)
		return -1;
	aw_batch *b = calloc(1, sizeof *b);
	if (!b)
		return aw__fail(e, AW_STEP_ARGS, NULL, ENOMEM);
	size_t cap = BATCH_OPEN_MAX ? BATCH_OPEN_MAX : 1;
	b->ring = calloc(cap, sizeof *b->ring);
	if (!b->ring) {
		free(b);
		return aw__fail(e, AW_STEP_ARGS, NULL, ENOMEM);
	}
	b->ring_cap = cap;
	b->o = o;
	aw__random_tag(b->tag);
	*ret = b;
	return 0;
}

/* ---- directories and locks -------------------------------------------- */

static size_t hash_of(dev_t dev, ino_t ino, size_t cap)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ULL ^ (uint64_t)dev;
	h ^= h >> 29;
	return (size_t)(h & (cap - 1));
}

static int rehash(aw_batch *b, size_t cap)
{
	size_t *h = calloc(cap, sizeof *h);
	if (!h)
		return -1;
	for (size_t i = 0; i < b->ndirs; i++) {
		size_t k = hash_of(b->dirs[i].dev, b->dirs[i].ino, cap);
		while (h[k])
			k = (k + 1) & (cap - 1);
		h[k] = i + 1;
	}
	free(b->hash);
	b->hash = h;
	b->hashcap = cap;
	return 0;
}

/* The batch's entry for f's directory, made the one f uses.  Returns its
 * index, or -1 (errno). */
static long share_dir(aw_batch *b, struct aw_file *f)
{
	struct stat st;
	if (aw__fstat(f->dirfd, &st) < 0)
		return -1;
	if (b->hashcap) {
		size_t k = hash_of(st.st_dev, st.st_ino, b->hashcap);
		for (; b->hash[k]; k = (k + 1) & (b->hashcap - 1)) {
			struct batch_dir *d = &b->dirs[b->hash[k] - 1];
			if (d->dev != st.st_dev || d->ino != st.st_ino)
				continue;
			/* Known: f uses the batch's descriptor. */
			aw__temp_use_dir(f, d->fd);
			f->batch_dir = b->hash[k] - 1;
			return (long)f->batch_dir;
		}
	}
	if ((b->ndirs + 1) * 2 > b->hashcap &&
	    rehash(b, b->hashcap ? b->hashcap * 2 : 64) < 0) {
		errno = ENOMEM;
		return -1;
	}
	struct batch_dir *dirs = aw__grow(b->dirs, b->ndirs, &b->dircap,
	                                  sizeof *dirs, 16);
	if (!dirs)
		return -1;
	b->dirs = dirs;
	size_t i = b->ndirs++;
	b->dirs[i] = (struct batch_dir){ st.st_dev, st.st_ino, f->dirfd, -1, -1,
	                                 false, false };
	size_t k = hash_of(st.st_dev, st.st_ino, b->hashcap);
	while (b->hash[k])
		k = (k + 1) & (b->hashcap - 1);
	b->hash[k] = i + 1;
	aw__temp_use_dir(f, f->dirfd);   /* the batch's to close now */
	f->batch_dir = i;
	return (long)i;
}

static struct batch_dir *dir_of(aw_batch *b, const struct aw_file *f)
{
	return &b->dirs[f->batch_dir];
}

/* Makes sure the batch's lock is linked in d.  0, or -1 (errno). */
static int ensure_lock(aw_batch *b, struct batch_dir *d)
{
	if (d->lock >= 0)
		return 0;
	/* The filesystem's lock inode, if the batch has one: another name. */
	for (size_t i = 0; i < b->nlocks; i++) {
		struct batch_lock *l = &b->locks[i];
		if (l->dev != d->dev)
			continue;
		if (aw__linkat(l->dirfd, l->name, d->fd, l->name, 0) == 0) {
			d->lock = (int)i;
			d->lock_slot = aw__cleanup_register(d->fd, l->name);
			return 0;
		}
		/* EXDEV (another mount of the same filesystem) and the like:
		 * a lock inode of its own. */
	}
	struct batch_lock *locks = aw__grow(b->locks, b->nlocks, &b->lockcap,
	                                    sizeof *locks, 4);
	if (!locks)
		return -1;
	b->locks = locks;
	struct batch_lock *l = &b->locks[b->nlocks];
	struct stat st;
	int fd = aw__create_marked(d->fd, "", b->tag, 0600, l->name, &st);
	if (fd < 0)
		return -1;
	l->dev = d->dev;
	l->fd = fd;
	l->dirfd = d->fd;
	d->lock = (int)b->nlocks++;
	d->lock_slot = aw__cleanup_register(d->fd, l->name);
	return 0;
}

/* ---- the open temporaries ---------------------------------------------- */

static void ring_push(aw_batch *b, struct aw_file *f)
{
	b->ring[(b->ring_head + b->ring_len) % b->ring_cap] = f;
	b->ring_len++;
}

static struct aw_file *ring_pop(aw_batch *b)
{
	struct aw_file *f = b->ring[b->ring_head];
	b->ring_head = (b->ring_head + 1) % b->ring_cap;
	b->ring_len--;
	return f;
}

/* Gives f's temporary a name with the batch's tag (the lock linked in its
 * directory first) and closes it.  Returns 0 (closed, or kept open when
 * it could not be reopened: a temporary its owner may not read and
 * write), or -1 with e filled. */
static int evict(aw_batch *b, struct aw_file *f, bool prepared, aw_error *e)
{
	if (f->fd < 0)
		return 0;
	struct stat st;
	if (!prepared) {
		if (aw__fstat(f->fd, &st) < 0)
			return aw__fail(e, AW_STEP_CREATE_TEMP, f->path, errno);
		if ((st.st_mode & 0600) != 0600 && geteuid() != 0)
			return 0;
	}
	if (ensure_lock(b, dir_of(b, f)) < 0)
		return aw__fail(e, AW_STEP_CREATE_TEMP, f->path, errno);
	/* Named before the lock was here: the tagged name. */
	if (aw__temp_retag(f, b->tag, e) < 0)
		return -1;
	if (!aw_file_temp_name(f, e))
		return -1;
	aw__temp_close(f);
	b->evicted = true;
	return 0;
}

/* Closes the oldest open temporaries until at most max are open. */
static int trim(aw_batch *b, size_t max, aw_error *e)
{
	while (b->ring_len > max) {
		struct aw_file *old = ring_pop(b);
		if (evict(b, old, false, e) < 0)
			return -1;
	}
	return 0;
}

int aw__batch_reopen(struct aw_file *f, aw_error *e)
{
	aw_batch *b = f->batch;
	/* Room for it among the open ones first. */
	if (trim(b, b->ring_cap - 1, e) < 0 || aw__temp_reopen(f, e) < 0)
		return -1;
	ring_push(b, f);
	return 0;
}

/* ---- staging ----------------------------------------------------------- */

int aw_batch_add_at(aw_batch *b, aw_file **ret, int dirfd, const char *path,
                    aw_error *e)
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
	/* Room for one more open temporary first. */
	if (trim(b, b->ring_cap - 1, e) < 0)
		return -1;
	aw_options o = { .durability = b->o.durability, .flags = b->o.flags,
	                 .mode = b->o.mode };
	aw_file *f;
	if (aw_file_begin_at(&f, dirfd, path, &o, e) < 0)
		return -1;
	f->batch = b;
	long d = share_dir(b, f);
	if (d < 0) {
		aw__fail(e, AW_STEP_OPEN_DIR, path, errno);
		aw__release(f);
		return -1;
	}
	/* Where the batch's lock is, a temporary named from now on carries
	 * the tag. */
	if (b->dirs[d].lock >= 0 && !f->named)
		aw__temp_retag(f, b->tag, NULL);   /* not named: cannot fail */
	b->files[b->n++] = f;
	ring_push(b, f);
	*ret = f;
	return 0;
}

int aw_batch_add(aw_batch *b, aw_file **ret, const char *path, aw_error *e)
{
	return aw_batch_add_at(b, ret, AT_FDCWD, path, e);
}

int aw_batch_add_buffer_at(aw_batch *b, int dirfd, const char *path,
                           const void *buf, size_t len, aw_error *e)
{
	aw_file *f;
	if (!buf && len)
		return aw__fail(e, AW_STEP_ARGS, path, EINVAL);
	if (aw_batch_add_at(b, &f, dirfd, path, e) < 0)
		return -1;
	/* A failed write marks the handle; the commit then fails the whole
	 * batch before touching anything. */
	return aw_file_write(f, buf, len, e);
}

int aw_batch_add_buffer(aw_batch *b, const char *path, const void *buf,
                        size_t len, aw_error *e)
{
	return aw_batch_add_buffer_at(b, AT_FDCWD, path, buf, len, e);
}

size_t aw_batch_size(const aw_batch *b)
{
	return b ? b->n : 0;
}

void aw_batch_discard(aw_batch *b)
{
	if (!b)
		return;
	int saved = errno;
	for (size_t i = 0; i < b->n; i++)
		aw__release(b->files[i]);
	/* Every tagged temporary is gone: now the locks may go. */
	for (size_t i = 0; i < b->ndirs; i++) {
		struct batch_dir *d = &b->dirs[i];
		if (d->lock >= 0)
			aw__unlinkat(d->fd, b->locks[d->lock].name, 0);
		if (d->lock_slot >= 0)
			aw__cleanup_unregister(d->lock_slot);
	}
	for (size_t i = 0; i < b->nlocks; i++)
		aw__close(b->locks[i].fd);
	for (size_t i = 0; i < b->ndirs; i++)
		aw__close(b->dirs[i].fd);
	free(b->locks);
	free(b->dirs);
	free(b->hash);
	free(b->ring);
	free(b->files);
	free(b);
	errno = saved;
}

/* ---- flushing ---------------------------------------------------------- */

struct flush_job {
	struct aw_file **files;
	size_t n;
	bool reopen;            /* the files are closed: reopen each by name */
	atomic_size_t next;
	atomic_long failed;     /* index + 1 of a file whose fsync failed */
	atomic_int err;
};

static int sync_one(struct aw_file *f, bool by_name)
{
	if (!by_name || f->fd >= 0)
		return aw__fsync(f->fd);
	/* Its mode is the target's now: read-only will do for fsync. */
	int fd = aw__temp_open_again(f, O_RDONLY);
	if (fd < 0 && errno == EACCES)
		fd = aw__temp_open_again(f, O_WRONLY);
	if (fd < 0)
		return -1;
	int r = aw__fsync(fd);
	int err = errno;
	aw__close(fd);
	errno = err;
	return r;
}

static void *flush_worker(void *p)
{
	struct flush_job *j = p;
	for (;;) {
		size_t i = atomic_fetch_add(&j->next, 1);
		if (i >= j->n || atomic_load(&j->failed))
			return NULL;
		if (sync_one(j->files[i], j->reopen) < 0) {
			long none = 0;
			if (atomic_compare_exchange_strong(&j->failed, &none, (long)i + 1))
				atomic_store(&j->err, errno);
		}
	}
}

/* fsyncs every file, from up to threads threads.  Returns the index of a
 * file whose fsync failed (errno set), or -1 when all succeeded. */
static long flush_files(struct aw_file **files, size_t n, size_t threads,
                        bool by_name)
{
	struct flush_job j = { files, n, by_name, 0, 0, 0 };
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
	long failed = atomic_load(&j.failed);
	if (failed) {
		errno = atomic_load(&j.err);
		return failed - 1;
	}
	return -1;
}

/* syncfs() once for each filesystem the batch touches.  Returns the index
 * of a file on a filesystem whose syncfs failed, or -1. */
static long flush_by_syncfs(aw_batch *b)
{
	/* The filesystems flushed so far: few, however many directories. */
	dev_t seen[16];
	size_t nseen = 0;
	for (size_t i = 0; i < b->ndirs; i++) {
		bool done = false;
		for (size_t k = 0; k < nseen && !done; k++)
			done = seen[k] == b->dirs[i].dev;
		for (size_t k = 0; k < i && !done && nseen == 16; k++)
			done = b->dirs[k].dev == b->dirs[i].dev;
		if (done)
			continue;
		if (nseen < 16)
			seen[nseen++] = b->dirs[i].dev;
		if (aw__syncfs(b->dirs[i].fd) == 0)
			continue;
		int err = errno;
		for (size_t f = 0; f < b->n; f++) {
			if (b->files[f]->dirfd == b->dirs[i].fd) {
				errno = err;
				return (long)f;
			}
		}
		errno = err;
		return 0;
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

/* ---- commit ------------------------------------------------------------ */

static void set_all(int *results, size_t n, int value)
{
	for (size_t i = 0; results && i < n; i++)
		results[i] = value;
}

/* Steps 1 and 2 of the commit: names, metadata and (per-file) flushes,
 * BATCH_OPEN_MAX entries at a time when the batch is larger.  Returns 0, or -1
 * with e filled. */
static int prepare_and_flush(aw_batch *b, aw_batch_flush how, aw_error *e)
{
	size_t n = b->n, chunk = b->ring_cap;
	bool per_file = b->o.durability != AW_DURABILITY_NONE && how != AW_BATCH_SYNCFS;
	size_t threads = how == AW_BATCH_SEQUENTIAL ? 1 : AW__BATCH_THREADS;
	for (size_t start = 0; start < n; start += chunk) {
		size_t end = n - start > chunk ? start + chunk : n;
		/* This chunk's temporaries closed afterwards: more follow. */
		bool closing = end < n;
		/* Only this chunk's temporaries stay open while it is
		 * prepared and flushed. */
		size_t open = b->ring_len;
		for (size_t k = 0; k < open; k++) {
			struct aw_file *f = ring_pop(b);
			bool member = false;
			for (size_t i = start; i < end && !member; i++)
				member = b->files[i] == f;
			if (member)
				ring_push(b, f);
			else if (evict(b, f, false, e) < 0)
				return -1;
		}
		for (size_t i = start; i < end; i++) {
			struct aw_file *f = b->files[i];
			if (f->fd < 0 && aw__batch_reopen(f, e) < 0)
				return -1;
			if (closing && f->unnamed) {
				if (ensure_lock(b, dir_of(b, f)) < 0)
					return aw__fail(e, AW_STEP_LINK_TEMP, f->path, errno);
				if (aw__temp_retag(f, b->tag, e) < 0)
					return -1;
			}
			if (aw__prepare(f, e) < 0)
				return -1;
		}
		if (per_file) {
			long bad = flush_files(b->files + start, end - start, threads, false);
			if (bad >= 0)
				return aw__fail(e, AW_STEP_SYNC_TEMP,
				                b->files[start + (size_t)bad]->path, errno);
		}
		if (!closing)
			continue;
		for (size_t i = start; i < end; i++)
			if (evict(b, b->files[i], true, e) < 0)
				return -1;
		/* Closed out of turn: the ring forgets them. */
		b->ring_len = 0;
		b->ring_head = 0;
	}
	if (b->o.durability != AW_DURABILITY_NONE && !per_file) {
		long bad = flush_by_syncfs(b);
		/* Where there is no syncfs, flush file by file. */
		if (bad >= 0 && errno == ENOSYS)
			bad = flush_files(b->files, n, AW__BATCH_THREADS, true);
		if (bad >= 0)
			return aw__fail(e, AW_STEP_SYNC_TEMP, b->files[bad]->path, errno);
	}
	return 0;
}

int aw_batch_commit(aw_batch *b, int *results, aw_error *e)
{
	if (!b)
		return aw__fail(e, AW_STEP_ARGS, NULL, EINVAL);
	size_t n = b->n;
	int result = AW_OK;
	set_all(results, n, AW_FAILED);

	/* 1. Name every temporary file and give it its metadata; 2. flush
	 * them all, before any target changes. */
	if (prepare_and_flush(b, choose_flush(b), e) < 0)
		goto abandon;
	/* 3. Rename; a failure stops here, what is renamed stays. */
	size_t renamed = 0;
	for (; renamed < n; renamed++) {
		struct aw_file *f = b->files[renamed];
		int r = aw__install(f, e);
		if (r == -1) {
			result = AW_FAILED;
			break;
		}
		dir_of(b, f)->renamed = true;
		if (results)
			results[renamed] = r == -2 ? AW_UNSYNCED : AW_OK;
		if (r == -2 && result == AW_OK)
			result = AW_UNSYNCED;
	}
	/* 4. One fsync per distinct directory of the renamed entries. */
	if (b->o.durability == AW_DURABILITY_FULL) {
		for (size_t i = 0; i < renamed; i++) {
			struct batch_dir *d = dir_of(b, b->files[i]);
			if (!d->renamed)
				continue;
			d->renamed = false;   /* once */
			if (aw__fsync(d->fd) == 0)
				continue;
			int err = errno;
			d->unsynced = true;
			if (result == AW_OK) {
				aw__fail(e, AW_STEP_SYNC_DIR, b->files[i]->path, err);
				result = AW_UNSYNCED;
			}
		}
		for (size_t i = 0; results && i < renamed; i++)
			if (dir_of(b, b->files[i])->unsynced)
				results[i] = AW_UNSYNCED;
	}
	aw_batch_discard(b);
	return result;

abandon:
	aw_batch_discard(b);
	return AW_FAILED;
}
