// SPDX-License-Identifier: MIT
/* The running kernel's version: see kver.h. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>

#include "kver.h"

unsigned kver_parse(const char *release)
{
	unsigned v[3] = { 0, 0, 0 };
	const char *p = release;
	int i;

	for (i = 0; i < 3; i++) {
		char *end;
		unsigned long n;

		if (*p < '0' || *p > '9')
			break;
		n = strtoul(p, &end, 10);
		v[i] = n > 255 ? 255 : (unsigned)n;
		p = end;
		if (*p != '.')
			break;
		p++;
	}
	if (i < 1)
		return 0;
	return KVER(v[0], v[1], v[2]);
}

unsigned kver_running(void)
{
	static unsigned cached;
	static int done;
	struct utsname u;
	const char *env;

	if (done)
		return cached;
	env = getenv("TW_KVER");
	if (env && *env)
		cached = kver_parse(env);
	else if (uname(&u) == 0)
		cached = kver_parse(u.release);
	done = 1;
	return cached;
}

bool kver_at_least(unsigned major, unsigned minor)
{
	unsigned v = kver_running();

	return v == 0 || v >= KVER(major, minor, 0);
}
