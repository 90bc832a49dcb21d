// SPDX-License-Identifier: MIT
/*
 * Ring profiles: the taskrun modes every scenario is run across (profiles[],
 * profile_by_name()). Setting a ring up from one is tring_init() (tring.c).
 */
#include <string.h>

#include "harness.h"

#define F_COOP		IORING_SETUP_COOP_TASKRUN
#define F_FLAG		IORING_SETUP_TASKRUN_FLAG
#define F_SINGLE	IORING_SETUP_SINGLE_ISSUER
#define F_DEFER		IORING_SETUP_DEFER_TASKRUN

const struct profile profiles[P_COUNT] = {
	[P_DEFAULT]	= { P_DEFAULT, "default", 0, 0,
			    "normal task_work, signalled with an IPI (TWA_SIGNAL)" },
	[P_COOP]	= { P_COOP, "coop", F_COOP, 0,
			    "COOP_TASKRUN: normal task_work without IPI" },
	[P_COOP_FLAG]	= { P_COOP_FLAG, "coop_flag", F_COOP | F_FLAG, PROF_TASKRUN_FLAG,
			    "COOP_TASKRUN|TASKRUN_FLAG: IORING_SQ_TASKRUN tells userspace" },
	[P_SINGLE]	= { P_SINGLE, "single", F_SINGLE, PROF_SINGLE_ISSUER,
			    "SINGLE_ISSUER: normal task_work, one submitter" },
	[P_DEFER]	= { P_DEFER, "defer", F_SINGLE | F_DEFER,
			    PROF_SINGLE_ISSUER | PROF_LOCAL_TW,
			    "SINGLE_ISSUER|DEFER_TASKRUN: local work, run when the owner waits" },
	[P_DEFER_FLAG]	= { P_DEFER_FLAG, "defer_flag", F_SINGLE | F_DEFER | F_FLAG,
			    PROF_SINGLE_ISSUER | PROF_LOCAL_TW | PROF_TASKRUN_FLAG,
			    "DEFER_TASKRUN|TASKRUN_FLAG: local work, flagged to userspace" },
	[P_SQPOLL]	= { P_SQPOLL, "sqpoll", IORING_SETUP_SQPOLL, PROF_SQPOLL,
			    "SQPOLL: the SQ thread submits and runs normal task_work" },
};

const struct profile *profile_by_name(const char *name)
{
	for (int i = 0; i < P_COUNT; i++)
		if (!strcmp(profiles[i].name, name))
			return &profiles[i];
	return NULL;
}
