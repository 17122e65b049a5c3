/* SPDX-License-Identifier: MIT */
/* fopen_write FILE TEXT: fopen(FILE, "w"), fprintf TEXT, fclose; exits 1
 * with the errno fclose gave if it failed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	FILE *f = argc == 3 ? fopen(argv[1], "w") : NULL;
	if (!f)
		return 2;
	fprintf(f, "%s\n", argv[2]);
	if (fclose(f) == EOF) {
		fprintf(stderr, "fclose: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
