/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_REPLAYPKT_H
#define NATTRACED_REPLAYPKT_H

/*
 * A packet to replay in a clone (clone.h): rebuilt from a timeline that
 * --output json wrote (its "raw_headers"), or made from one line of a
 * --check file. No kernel: bytes in, bytes out.
 */
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"

#define REPLAY_PKT_MAX	  128 /* network + transport header, no payload */
#define REPLAY_TEXT_MAX	  512
#define REPLAY_ERR_MAX	  256

enum replay_origin {
	REPLAY_FORWARDED_OR_INPUT, /* came in on iif: injected there */
	REPLAY_LOCAL_OUT,	   /* sent by the host (first hook output) */
};

/*
 * The live packet's conntrack entry, to recreate in the clone (the
 * packet of an established connection is then replayed as one): the
 * tuples of the record's "mapping" when it has one (a NATed
 * connection), else the packet's own tuple, turned for a reply.
 */
struct replay_ct {
	bool want;  /* established, related or a reply: recreate it */
	bool reply; /* the packet goes in the reply direction */
	bool from_mapping;
	uint8_t orig_src[16], orig_dst[16], reply_src[16], reply_dst[16];
	uint16_t orig_sport, orig_dport, reply_sport, reply_dport;
};

struct replay_packet {
	char id[16];	       /* the timeline's "id", or "file:line" */
	enum replay_origin origin;
	char iif[IF_NAMESIZE]; /* "" for REPLAY_LOCAL_OUT */
	uint32_t mark;	       /* on entry */
	/* IPv4 or IPv6 header + transport header, lengths and checksums right */
	uint8_t bytes[REPLAY_PKT_MAX];
	size_t len;
	struct packet_info info; /* packet_parse() of bytes */
	/* the live run: conntrack said established/related/reply */
	bool established;
	struct replay_ct ct;
	/* the live verdict line ("drop by rule `drop` (handle 11) in ..."), "" for --check */
	char before[REPLAY_TEXT_MAX];
	/* added by the packet side: */
	/* the record said what conntrack called it (its "ct" had a state) */
	bool ct_known;
	/*
	 * What the rebuild left out or changed, for the user ("TCP options
	 * (20 bytes) were not recorded: replayed without them"), "" if nothing.
	 */
	char notes[REPLAY_ERR_MAX];
};

/*
 * One JSON line as --output json writes it (a "trace" record; other
 * types give -ENOENT). The packet as it entered its first chain. -EINVAL
 * with err saying what is missing (e.g. a line written before
 * raw_headers existed).
 */
int replay_packet_from_json(const char *line, struct replay_packet *ret, char *err,
			    size_t errlen);

enum expect_verdict {
	EXPECT_ACCEPT,
	EXPECT_DROP,
	EXPECT_REJECT,
};

/* One line of a --check file. */
struct expectation {
	unsigned int line; /* 1-based */
	char text[REPLAY_TEXT_MAX]; /* the line as written, trimmed */
	struct replay_packet pkt;
	enum expect_verdict verdict;
	bool by_policy;	  /* "drop by policy" */
	bool has_handle;  /* "drop by rule handle N" */
	uint64_t handle;
};

/*
 * Parse one line: 1 and *ret filled, 0 for a blank or comment line,
 * -EINVAL with err saying what is wrong (the caller adds file:line).
 *   tcp 198.51.100.2:40000 -> 198.51.100.1:1222 iif wan0 syn: accept
 *   udp [2001:db8:1::2]:5353 -> [2001:db8:1::1]:53 iif wan0: reject
 *   icmp 198.51.100.2 -> 198.51.100.1 iif wan0 echo-request: drop by rule handle 11
 *   tcp 203.0.113.1:22 -> 198.51.100.2:40000 syn,ack: accept   (no iif: sent by the host)
 */
int expect_parse_line(const char *line, unsigned int lineno, struct expectation *ret, char *err,
		      size_t errlen);

/*
 * "198.51.100.2:40000", "[2001:db8::2]:53", or an address alone when
 * !want_port: *ret_l3 4 or 6. 0, or -EINVAL with err.
 */
int replay_parse_endpoint(const char *word, bool want_port, uint8_t *ret_l3, uint8_t *addr,
			  uint16_t *ret_port, char *err, size_t errlen);

/* Build bytes (lengths, checksums) from pkt->info; 0 or -EINVAL. */
int replay_packet_build(struct replay_packet *pkt);

#endif
