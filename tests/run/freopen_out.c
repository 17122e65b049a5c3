/* SPDX-License-Identifier: MIT */
/* freopen_out FILE TEXT: freopen(FILE, "w", stdout), prints TEXT, and
 * returns from main (exit's flush, then the preload's commit). */
#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc != 3 || !freopen(argv[1], "w", stdout))
		return 2;
	printf("%s\n", argv[2]);
	return 0;
}
