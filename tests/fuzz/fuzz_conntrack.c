/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: arbitrary bytes as a ctnetlink datagram, through the
 * validation and libnetfilter_conntrack's parser (natmap_parse_msg(), as
 * events and as dump entries), then the text and JSON of each mapping.
 * libnetfilter_conntrack calls exit() on attributes it cannot validate;
 * libFuzzer reports an exit() during an input as "fuzz target exited".
 * Seeds: the .bin files of tests/fixtures/conntrack.
 */
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "natmap.h"
#include "trace.h"

/* libFuzzer calls it; declared for -Wmissing-prototypes */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t buf[65536 / 4];
	const struct nlmsghdr *nlh;
	size_t off = 0;
	bool bad;

	if (size > sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	while ((nlh = trace_msg_next(buf, size, &off, &bad))) {
		for (int dump = 0; dump < 2; dump++) {
			struct natmap m;
			char line[1024], stack[1024];
			struct jsonw w;

			if (natmap_parse_msg(nlh, dump, &m) < 0)
				continue;
			natmap_text(&m, line, sizeof(line));
			jsonw_init(&w, stack, sizeof(stack));
			natmap_json(&w, NULL, &m);
			jsonw_release(&w);
		}
	}
	return 0;
}
