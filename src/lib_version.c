/* SPDX-License-Identifier: MIT */
/*
 * lib_version.c - which library a program runs with (aw_lib_version()),
 * as opposed to the version directories of publication (version.c).
 */
#include "internal.h"

const char *aw_lib_version(void)
{
	return AW_VERSION_STRING;
}
