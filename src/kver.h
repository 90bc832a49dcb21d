/* SPDX-License-Identifier: MIT */
/*
 * The running kernel's version, for the few decisions that depend on it:
 * whether a refused feature is one the kernel predates (a skip) or one it
 * should have (a failure), and which outcomes a kernel's contract allows.
 * TW_KVER overrides uname -r (self-tests, and replaying a guest's verdict).
 */
#ifndef TW_KVER_H
#define TW_KVER_H

#include <stdbool.h>

/* major * 65536 + minor * 256 + patch (each capped at 255). */
#define KVER(major, minor, patch) \
	((unsigned)(major) * 65536u + (unsigned)(minor) * 256u + (unsigned)(patch))

/* Parses "6.18.44-amd64", "7.3.0-rc4", "7.2"; 0 on anything else. */
unsigned kver_parse(const char *release);
/* The running kernel (TW_KVER, else uname -r), parsed once; 0 if unparsable. */
unsigned kver_running(void);
/* kver_running() >= KVER(major, minor, 0); true if unparsable (assume new). */
bool kver_at_least(unsigned major, unsigned minor);

#endif
