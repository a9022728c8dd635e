/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: arbitrary bytes as a --replay JSON line
 * (replay_packet_from_json(): hex bounds, header cuts, lengths) and as
 * lines of a --check file (expect_parse_line()): whatever is accepted
 * has right checksums and parses back, and no error message holds a raw
 * control character for the terminal.
 * Seeds: tests/fixtures/replay/.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "replaypkt.h"

static void clean_err(const char *err)
{
	for (const char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
}

/* the ones' complement sum of the IPv4 header, checksum included, is 0xffff */
static void check_ipv4(const struct replay_packet *p)
{
	uint32_t s = 0;
	size_t nhl;

	if (p->len < 20 || p->bytes[0] >> 4 != 4)
		return;
	nhl = (size_t)(p->bytes[0] & 15) * 4;
	if (nhl > p->len || (size_t)(p->bytes[2] << 8 | p->bytes[3]) != p->len)
		abort();
	for (size_t i = 0; i < nhl; i += 2)
		s += (uint32_t)(p->bytes[i] << 8 | p->bytes[i + 1]);
	while (s > 0xffff)
		s = (s >> 16) + (s & 0xffff);
	if (s != 0xffff)
		abort();
}

/* libFuzzer calls it; declared for -Wmissing-prototypes */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct replay_packet pkt;
	static struct expectation exp;
	char err[REPLAY_ERR_MAX], *line, *save = NULL;
	int r;

	line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	r = replay_packet_from_json(line, &pkt, err, sizeof(err));
	if (r == 0) {
		if (pkt.len > REPLAY_PKT_MAX || !pkt.info.l3)
			abort();
		check_ipv4(&pkt);
	} else if (r == -EINVAL) {
		clean_err(err);
	} else if (r != -ENOENT) {
		abort();
	}
	for (char *l = strtok_r(line, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		r = expect_parse_line(l, 1, &exp, err, sizeof(err));
		if (r == 1)
			check_ipv4(&exp.pkt);
		else if (r == -EINVAL)
			clean_err(err);
		else if (r != 0)
			abort();
	}
	free(line);
	return 0;
}
