// SPDX-License-Identifier: MIT
// Placeholder while the benchmark is written (issue 6).
#include <stdio.h>
int main(void)
{
	fprintf(stderr, "twbench: not written yet\n");
	return 77;
}
