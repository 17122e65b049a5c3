/*
 * edit_bench.c - a 4 KiB change to a big file, committed atomically and
 * durably: with AW_COPY_TARGET (a reflink clone where the filesystem can)
 * against copying the whole file through user space first.
 *
 *     edit_bench FILE_IN_DIR SIZE_MIB
 */
#define _GNU_SOURCE
#include <atomicwrite.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	const char *path = argv[1];
	size_t mib = (size_t)atol(argv[2]);
	char *buf = malloc(1 << 20);
	memset(buf, 'a', 1 << 20);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	for (size_t i = 0; i < mib; i++)
		if (write(fd, buf, 1 << 20) != 1 << 20)
			return 1;
	fsync(fd);
	close(fd);

	/* Clone-start edit. */
	double t0 = now_ms();
	aw_options o = { .flags = AW_COPY_TARGET };
	aw_file *f;
	if (aw_begin(&f, path, &o, NULL) < 0 || pwrite(aw_fd(f), "EDIT", 4, 12345) != 4 ||
	    aw_commit(f, NULL) != AW_OK)
		return 1;
	double clone_ms = now_ms() - t0;

	/* The same edit after a copy through user space. */
	t0 = now_ms();
	int src = open(path, O_RDONLY);
	if (aw_begin(&f, path, NULL, NULL) < 0)
		return 1;
	ssize_t n;
	while ((n = read(src, buf, 1 << 20)) > 0)
		if (aw_write(f, buf, (size_t)n, NULL) < 0)
			return 1;
	close(src);
	if (pwrite(aw_fd(f), "EDIT", 4, 12345) != 4 || aw_commit(f, NULL) != AW_OK)
		return 1;
	double copy_ms = now_ms() - t0;
	printf("%zu MiB file, 4-byte edit, durable commit: AW_COPY_TARGET %.1f ms, "
	       "full copy %.1f ms (%.0fx)\n", mib, clone_ms, copy_ms, copy_ms / clone_ms);
	return 0;
}
