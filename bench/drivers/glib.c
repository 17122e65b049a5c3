/* SPDX-License-Identifier: MIT */
/*
 * glib.c - GLib's g_file_set_contents_full() with CONSISTENT | DURABLE
 * (temp file, fsync, rename, fsync of the directory).  GLib has no
 * non-durable atomic mode for an existing file (CONSISTENT alone still
 * fsyncs a non-empty target) and no streaming API: a large file is built
 * in memory whole and handed over in one call.
 */
#include "driver.h"

#include <glib.h>

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv);
	if (a.mode == SMALL_NOSYNC)
		bench_die("no non-durable mode in", "GLib");
	char path[4096];
	char *buf = bench_contents(a.size);
	GFileSetContentsFlags flags =
		G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE;
	double start = bench_now_us();
	for (long i = 0; i < a.n; i++) {
		bench_target(&a, i, path, sizeof path);
		GError *err = NULL;
		if (!g_file_set_contents_full(path, buf, (gssize)a.size, flags,
		                              0644, &err))
			bench_die("g_file_set_contents_full", path);
	}
	bench_report(start);
	free(buf);
	return 0;
}
