/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writes a JUnit report of --check (checkreport.h) for tests/junit_xml.py:
 * the lines on the command line as expectations, every other one failed,
 * so that an XML parser can read back what the text held.
 * Usage: junit_sample SUITE LINE...
 */
#include <stdio.h>
#include <string.h>

#include "checkreport.h"

#define MAX_LINES 16

int main(int argc, char **argv)
{
	static struct expectation exp[MAX_LINES];
	static struct check_result res[MAX_LINES];
	size_t n = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: junit_sample SUITE LINE...\n");
		return 2;
	}
	for (int i = 2; i < argc && n < MAX_LINES; i++, n++) {
		exp[n].line = (unsigned int)n + 1;
		snprintf(exp[n].text, sizeof(exp[n].text), "%s", argv[i]);
		exp[n].verdict = EXPECT_ACCEPT;
		res[n].exp = &exp[n];
		res[n].known = true;
		res[n].verdict = n % 2 ? EXPECT_DROP : EXPECT_ACCEPT;
		snprintf(res[n].actual, sizeof(res[n].actual), "%s by %s",
			 n % 2 ? "drop" : "accept", argv[i]);
		res[n].seconds = 0.001 * (double)n;
		check_judge(&res[n]);
	}
	return junit_write(stdout, argv[1], res, n, 0.5) ? 1 : 0;
}
