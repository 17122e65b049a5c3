/*
 * tmpname.c - names of temporary files: unpredictable, recognisably ours,
 * and short enough for the directory's NAME_MAX.
 */
#include "internal.h"
#include "sys.h"

#include <errno.h>
#include <string.h>

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

int aw__tmpname(char *buf, const char *target, long name_max)
{
	if (name_max > NAME_MAX)
		name_max = NAME_MAX;
	if (name_max < AW__TMP_FIXED_LEN + 1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	unsigned char rnd[AW__RAND_LEN];
	aw__random(rnd, sizeof rnd);

	char *p = buf;
	memcpy(p, AW__TMP_PREFIX, AW__TMP_PREFIX_LEN);
	p += AW__TMP_PREFIX_LEN;
	for (size_t i = 0; i < AW__RAND_LEN; i++)
		*p++ = alphabet[rnd[i] % (sizeof alphabet - 1)];
	*p++ = '-';

	/* The target's name is only there to tell a human whose leftover
	 * this is; cut it to fit, and never in the middle of a UTF-8
	 * sequence, which some filesystems would refuse. */
	size_t room = (size_t)name_max - AW__TMP_FIXED_LEN;
	size_t len = strlen(target);
	if (len > room) {
		len = room;
		while (len > 0 && ((unsigned char)target[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(p, target, len);
	p[len] = '\0';
	return 0;
}

bool aw__is_tmpname(const char *name)
{
	if (strncmp(name, AW__TMP_PREFIX, AW__TMP_PREFIX_LEN) != 0)
		return false;
	const char *r = name + AW__TMP_PREFIX_LEN;
	for (size_t i = 0; i < AW__RAND_LEN; i++) {
		char c = r[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9')))
			return false;
	}
	return r[AW__RAND_LEN] == '-';
}
