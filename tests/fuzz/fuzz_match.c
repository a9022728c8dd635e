/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for both match checks: the bytes as match text
 * (match_precheck() and match_rule_text()) and as libnftables' JSON listing
 * of the check chain (match_verify_listing(), with and without a rate).
 * Seeds: the .json files of tests/fixtures/match.
 */
#include <stdlib.h>
#include <string.h>

#include "match.h"

/* libFuzzer calls it; declared for -Wmissing-prototypes */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, err[256], rule[8192];

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (match_precheck(text, err, sizeof(err)) == 0)
		(void)match_rule_text(text, "1/second", rule, sizeof(rule));
	(void)match_verify_listing(text, "1/second", err, sizeof(err));
	(void)match_verify_listing(text, NULL, err, sizeof(err));
	free(text);
	return 0;
}
