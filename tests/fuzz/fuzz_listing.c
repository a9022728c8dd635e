/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: arbitrary bytes as libnftables' text listing of a
 * ruleset (listing_parse(), which builds the handle-to-text map). Found
 * the out-of-bounds read on a depth-0 "table {" line (issue 11 item 11).
 * Seeds: tests/fixtures/listing/.
 */
#include <stdlib.h>
#include <string.h>

#include "listing.h"

static int on_rule(void *data, const struct listing_table *t, const struct listing_chain *c,
		   const struct listing_rule *r)
{
	size_t *n = data;

	(void)t;
	(void)c;
	*n += strlen(r->text);
	return 0;
}

/* libFuzzer calls it; declared for -Wmissing-prototypes */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct listing_ops ops = { .rule = on_rule };
	struct listing_stats st;
	size_t n = 0;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)listing_parse(text, size, &ops, &n, &st);
	free(text);
	return 0;
}
