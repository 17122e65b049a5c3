/* SPDX-License-Identifier: MIT */
/*
 * cmd_batch.c - "atomicwrite batch FILE=SRC...": many durable replacements
 * with the flushes issued together (see aw_batch_commit()).
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(void)
{
	printf(
"Usage: %s batch [OPTION]... FILE=SRC...\n"
"       %s batch [OPTION]... --manifest LIST\n"
"Replace each FILE with a copy of SRC, each atomically, all durably, for\n"
"little more than the cost of one replacement: every new file is written,\n"
"then all are flushed together, then renamed, then each directory is\n"
"flushed once.  If anything fails before the renames, no FILE is touched.\n"
"\n"
"      --manifest=LIST     read FILE<TAB>SRC lines from LIST (- for standard\n"
"                          input) instead of operands\n"
"      --durability=LEVEL  full (default), file or none, as for one file\n"
"      --flush=HOW         auto (default), sequential, parallel or syncfs\n"
"  -h, --help              show this help and exit\n"
"\n"
"Exit status: 0 all replaced; 1 failed (the message says which FILE; none\n"
"replaced unless the failure was a rename); 2 usage error; 3 all replaced,\n"
"a directory flush failed.\n",
	cli_prog, cli_prog);
}

static int parse_flush(const char *s, aw_batch_flush *out)
{
	static const char *const names[] = { "auto", "sequential", "parallel", "syncfs" };
	for (int i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (aw_batch_flush)i;
			return 0;
		}
	}
	return -1;
}

/* Stages FILE with a copy of SRC.  Returns 0 or -1 (message printed). */
static int stage(aw_batch *b, const char *file, const char *src)
{
	aw_error e;
	int fd = cli_open_read(src);
	if (fd < 0) {
		cli_warn("reading new contents for %s from %s: %s", file, src, strerror(errno));
		return -1;
	}
	aw_file *f;
	int r = aw_batch_add(b, &f, file, &e) < 0 ? -1 : aw_file_copy_from(f, fd, &e);
	close(fd);
	if (r < 0)
		cli_report(AW_FAILED, &e);
	return r;
}

static int stage_manifest(aw_batch *b, const char *list)
{
	FILE *in = strcmp(list, "-") == 0 ? stdin : fopen(list, "r");
	if (!in) {
		cli_warn("reading manifest %s: %s", list, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int r = 0, lineno = 0;
	while (r == 0 && (len = getline(&line, &cap, in)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		char *tab = strchr(line, '\t');
		if (!tab || tab == line || !tab[1]) {
			cli_warn("%s:%d: expected FILE<TAB>SRC", list, lineno);
			r = -2;
			break;
		}
		*tab = '\0';
		r = stage(b, line, tab + 1);
	}
	free(line);
	if (in != stdin)
		fclose(in);
	return r;
}

int cmd_batch(int argc, char **argv)
{
	enum { OPT_MANIFEST = 256, OPT_DURABILITY, OPT_FLUSH };
	static const struct option longopts[] = {
		{ "manifest", required_argument, NULL, OPT_MANIFEST },
		{ "durability", required_argument, NULL, OPT_DURABILITY },
		{ "flush", required_argument, NULL, OPT_FLUSH },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	aw_batch_options o = { 0 };
	const char *manifest = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_MANIFEST:
			manifest = optarg;
			break;
		case OPT_DURABILITY:
			if (cli_parse_durability(optarg, &o.durability) < 0)
				return cli_usage_error("batch: invalid durability '%s': use full, file or none", optarg);
			break;
		case OPT_FLUSH:
			if (parse_flush(optarg, &o.flush) < 0)
				return cli_usage_error("batch: invalid --flush '%s': use auto, sequential, parallel or syncfs", optarg);
			break;
		case 'h':
			usage();
			return EXIT_OK;
		default:
			fprintf(stderr, "Try '%s batch --help' for more information.\n", cli_prog);
			return EXIT_USAGE;
		}
	}
	if (!manifest && optind >= argc)
		return cli_usage_error("batch: missing FILE=SRC operands (or --manifest)");
	if (manifest && optind < argc)
		return cli_usage_error("batch: FILE=SRC operands and --manifest exclude each other");
	for (int i = optind; i < argc; i++)
		if (!strchr(argv[i], '=') || argv[i][0] == '=')
			return cli_usage_error("batch: '%s' is not FILE=SRC", argv[i]);

	aw_cleanup_install();
	aw_error e;
	aw_batch *b;
	if (aw_batch_new(&b, &o, &e) < 0)
		return cli_report(AW_FAILED, &e);
	int r = 0;
	if (manifest) {
		r = stage_manifest(b, manifest);
	} else {
		for (int i = optind; i < argc && r == 0; i++) {
			char *eq = strchr(argv[i], '=');
			*eq = '\0';
			r = stage(b, argv[i], eq + 1);
		}
	}
	if (r < 0) {
		aw_batch_discard(b);
		cli_warn("nothing was replaced");
		return r == -2 ? EXIT_USAGE : EXIT_FAIL;
	}
	return cli_report(aw_batch_commit(b, NULL, &e), &e);
}
