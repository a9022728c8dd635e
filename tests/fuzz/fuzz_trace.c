/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: arbitrary bytes as a netlink datagram, through decode,
 * grouping and both formatters, as the daemon would handle them.
 *
 *   CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false
 *   meson test -C build-fuzz --suite fuzz      # each target briefly (tests/fuzz/run.sh)
 *   build-fuzz/tests/fuzz_trace -max_total_time=60 NEWDIR tests/fuzz/corpus
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "timeline.h"
#include "trace.h"

static void render(void *ctx, const struct timeline *tl, enum timeline_end why)
{
	static const struct resolver none;
	static struct explain ex;
	FILE *null = ctx;

	(void)why;
	explain_timeline(tl, &none, &ex);
	format_text(null, tl, &ex);
	format_json_line(null, tl, &ex);
}

/* libFuzzer calls it; declared for -Wmissing-prototypes */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct timeline_table *t;
	static FILE *null;
	static uint64_t now;
	/* netlink messages are 4-byte aligned in the receive buffer */
	static uint32_t buf[65536 / 4];
	const struct nlmsghdr *nlh;
	size_t off = 0;
	bool bad;

	if (!t) {
		struct timeline_config cfg = {
			.own_table = "trace_debug",
			.own_family = 1,
			.max_inflight = 8,
			.max_steps = 64,
			.idle_ns = 1000,
			.emit = render,
		};

		null = fopen("/dev/null", "w");
		cfg.emit_ctx = null;
		if (!null || timeline_table_new(&cfg, &t) < 0)
			abort();
	}
	if (size > sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	while ((nlh = trace_msg_next(buf, size, &off, &bad))) {
		struct trace_event ev;

		if (trace_decode(nlh, &ev) == 0)
			timeline_add(t, &ev, now);
	}
	now += 500;
	timeline_expire(t, now);
	return 0;
}
