/* SPDX-License-Identifier: MIT */
/* consumer.c - a program built against an installed or vendored
 * atomicwrite by the packaging tests: it replaces a file and checks it. */
#include <atomicwrite.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "consumer.out";
	static const char text[] = "written by the consumer\n";
	aw_error e;
	char msg[4200];
	if (aw_file_replace(path, text, sizeof text - 1, NULL, &e) != AW_OK) {
		fprintf(stderr, "consumer: %s\n", aw_error_format(&e, msg, sizeof msg));
		return 1;
	}
	if (strcmp(aw_lib_version(), AW_VERSION_STRING) != 0) {
		fprintf(stderr, "consumer: header %s, library %s\n", AW_VERSION_STRING,
		        aw_lib_version());
		return 1;
	}
	printf("%s\n", aw_lib_version());
	return 0;
}
