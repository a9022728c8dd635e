/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: arbitrary bytes as a configuration file
 * (config_parse(): size and line bounds, keys, each value's option check,
 * the escaping of control characters in the error message).
 * Seeds: tests/fixtures/config/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* libFuzzer calls it; declared for -Wmissing-prototypes */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL;
	char err[512];
	FILE *f;

	if (size == 0)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	if (config_parse("fuzz.conf", f, &c, err, sizeof(err)) == 0) {
		(void)config_get(c, "match");
		config_free(c);
	} else {
		/* never a raw control character in what a terminal would show */
		for (const char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				abort();
	}
	fclose(f);
	return 0;
}
