/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A packet to replay (replaypkt.h), as bytes the kernel will accept: from
 * the raw_headers of a --output json line, or built from the fields of a
 * --check line. The recorded bytes are what the kernel copied into the
 * trace event, cut at 40 bytes of network header and 20 of transport
 * header, with no payload behind them: lengths and checksums are made to
 * fit the bytes that are sent, and nothing that was not recorded is
 * invented, only left out (and said so in notes).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "names.h"
#include "replaypkt.h"
#include "strbuf.h"

#define IPV4_HDR      20
#define IPV6_HDR      40
#define TCP_HDR	      20
#define UDP_HDR	      8
#define ICMP_HDR      8
#define IPV4_DF	      0x4000
#define IPV4_MF	      0x2000
#define IPV4_OFFMASK  0x1fff
#define TTL	      64
#define TCP_WINDOW    64240 /* Linux's first window for a 1460-byte MSS */
#define TCP_SEQ_FIXED 0x4e415454u /* "NATT": any non-zero number will do */
#define ICMP_ECHO_ID  0x4e54	  /* "NT" */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

/* RFC 1071: the ones' complement sum of 16-bit words, an odd byte padded */
static uint32_t csum_add(uint32_t sum, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += rd16(b + i);
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Where a transport protocol keeps its checksum, -1 for none we compute. */
static int l4_csum_offset(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return 16;
	case IPPROTO_UDP:
		return 6;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 2;
	}
	return -1;
}

/*
 * Lengths and checksums of bytes[0..nhl) network header and
 * bytes[nhl..len) transport header (and recorded payload).
 */
static void fix_up(uint8_t *b, size_t nhl, size_t len)
{
	uint8_t *th = b + nhl;
	size_t tl = len - nhl;
	uint8_t proto;
	uint32_t sum = 0;
	int off;

	if (b[0] >> 4 == 4) {
		proto = b[9];
		wr16(b + 2, (uint16_t)len);
		wr16(b + 10, 0);
		wr16(b + 10, csum_fold(csum_add(0, b, nhl)));
		/* RFC 792: ICMP's checksum has no pseudo-header */
		if (proto != IPPROTO_ICMP) {
			sum = csum_add(sum, b + 12, 8);
			sum += proto;
			sum += (uint32_t)tl;
		}
	} else {
		proto = b[6];
		wr16(b + 4, (uint16_t)tl);
		/* RFC 8200 8.1: addresses, upper-layer length, next header */
		sum = csum_add(sum, b + 8, 32);
		sum += (uint32_t)tl;
		sum += proto;
	}
	if (proto == IPPROTO_UDP && tl >= UDP_HDR)
		wr16(th + 4, (uint16_t)tl);
	off = l4_csum_offset(proto);
	if (off < 0 || tl < (size_t)off + 2)
		return;
	wr16(th + off, 0);
	wr16(th + off, csum_fold(csum_add(sum, th, tl)));
	/* RFC 768: a computed 0 is sent as all ones, 0 means "none" */
	if (proto == IPPROTO_UDP && rd16(th + off) == 0)
		wr16(th + off, 0xffff);
}

static int parse_bytes(struct replay_packet *pkt, size_t nhl, char *err, size_t errlen)
{
	int r = packet_parse(pkt->bytes, nhl, pkt->bytes + nhl, pkt->len - nhl, &pkt->info);

	if (r < 0)
		return strbuf_error(err, errlen, "the rebuilt network header does not parse");
	return 0;
}

/* ---- from a --output json line ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* hex into out (at most max bytes): the byte count, or -EINVAL with err */
static int unhex(const char *key, const char *hex, uint8_t *out, size_t max, char *err,
		 size_t errlen)
{
	size_t n = strlen(hex);

	if (n % 2)
		return strbuf_error(err, errlen, "raw_headers.%s: odd number of hex digits (%zu)",
				    key, n);
	if (n / 2 > max)
		return strbuf_error(err, errlen,
				    "raw_headers.%s: %zu bytes, more than the %zu a trace event holds",
				    key, n / 2, max);
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);

		if (hi < 0 || lo < 0) {
			unsigned char c = (unsigned char)(hi < 0 ? hex[i] : hex[i + 1]);

			if (c > 0x20 && c < 0x7f)
				return strbuf_error(err, errlen,
						    "raw_headers.%s: '%c' at %zu is not a hex digit",
						    key, c, hi < 0 ? i : i + 1);
			return strbuf_error(err, errlen,
					    "raw_headers.%s: byte 0x%02x at %zu is not a hex digit",
					    key, c, hi < 0 ? i : i + 1);
		}
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

static void note(struct replay_packet *pkt, size_t *off, const char *what)
{
	strbuf_add(pkt->notes, sizeof(pkt->notes), off, "%s%s", *off ? "; " : "", what);
}

/*
 * The network header into pkt->bytes: its length, or -EINVAL. IPv4
 * options the kernel cut at 40 bytes are left out; IPv6 extension
 * headers were never recorded (the attribute holds the fixed header).
 */
static int network_header(struct replay_packet *pkt, const uint8_t *nh, size_t n, size_t *notes,
			  char *err, size_t errlen)
{
	size_t ihl;

	if (n < 1)
		return strbuf_error(err, errlen, "raw_headers.network is empty");
	switch (nh[0] >> 4) {
	case 4:
		if (n < IPV4_HDR)
			return strbuf_error(err, errlen,
					    "raw_headers.network: %zu bytes, too short for IPv4 (20)",
					    n);
		ihl = (size_t)(nh[0] & 0x0f) * 4;
		if (ihl < IPV4_HDR)
			return strbuf_error(err, errlen,
					    "raw_headers.network: IPv4 header length %zu < 20", ihl);
		if (rd16(nh + 6) & (IPV4_MF | IPV4_OFFMASK))
			return strbuf_error(
				err, errlen,
				"the packet is an IPv4 fragment: its other fragments were not recorded");
		if (ihl > n) {
			/* cut by the kernel: the options are not whole, leave them out */
			memcpy(pkt->bytes, nh, IPV4_HDR);
			pkt->bytes[0] = 0x45;
			note(pkt, notes,
			     "IPv4 options were cut by the kernel: replayed without them");
			return IPV4_HDR;
		}
		memcpy(pkt->bytes, nh, ihl);
		return (int)ihl;
	case 6:
		if (n < IPV6_HDR)
			return strbuf_error(err, errlen,
					    "raw_headers.network: %zu bytes, too short for IPv6 (40)",
					    n);
		if (packet_ipv6_ext(nh[6]))
			return strbuf_error(
				err, errlen,
				"the packet has IPv6 extension header %u, which the kernel does not record",
				nh[6]);
		memcpy(pkt->bytes, nh, IPV6_HDR);
		return IPV6_HDR;
	}
	return strbuf_error(err, errlen, "raw_headers.network: IP version %u, not 4 or 6",
			    nh[0] >> 4);
}

/*
 * The transport header after nhl: its length, or -EINVAL. TCP is cut at
 * 20 bytes, so its options never are whole: the header is sent with data
 * offset 5, without them. UDP and ICMP keep the payload bytes recorded
 * behind the header.
 */
static int transport_header(struct replay_packet *pkt, size_t nhl, uint8_t proto,
			    const uint8_t *th, size_t n, size_t *notes, char *err, size_t errlen)
{
	uint8_t *out = pkt->bytes + nhl;
	char buf[96];
	size_t doff;

	if (n > REPLAY_PKT_MAX - nhl)
		n = REPLAY_PKT_MAX - nhl;
	switch (proto) {
	case IPPROTO_TCP:
		if (n < 4)
			return strbuf_error(
				err, errlen,
				"raw_headers.transport: %zu bytes, too short for the TCP ports", n);
		memset(out, 0, TCP_HDR);
		memcpy(out, th, n < TCP_HDR ? n : TCP_HDR);
		doff = n >= 13 ? (size_t)(th[12] >> 4) * 4 : 0;
		if (n < TCP_HDR) {
			/* cut: what is known, the rest a plain header's */
			snprintf(buf, sizeof(buf),
				 "the TCP header was cut at %zu bytes: the rest is a minimal header's",
				 n);
			note(pkt, notes, buf);
			if (n < 16)
				wr16(out + 14, TCP_WINDOW);
		} else if (doff > TCP_HDR) {
			snprintf(buf, sizeof(buf),
				 "TCP options (%zu bytes) were not recorded: replayed without them",
				 doff - TCP_HDR);
			note(pkt, notes, buf);
		}
		out[12] = (uint8_t)((TCP_HDR / 4) << 4 | (out[12] & 0x0f));
		return TCP_HDR;
	case IPPROTO_UDP:
		if (n < UDP_HDR)
			return strbuf_error(err, errlen,
					    "raw_headers.transport: %zu bytes, too short for UDP (8)",
					    n);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (n < 4)
			return strbuf_error(err, errlen,
					    "raw_headers.transport: %zu bytes, too short for ICMP (4)",
					    n);
		break;
	default:
		if (n)
			note(pkt, notes, "the transport header is sent as recorded, no checksum fixed");
		break;
	}
	memcpy(out, th, n);
	return (int)n;
}

/*
 * The IP header's length says how long the packet was: what lay behind
 * the recorded headers is not sent, and the user is told.
 */
static void payload_note(struct replay_packet *pkt, const uint8_t *nh, uint8_t proto,
			 const uint8_t *th, size_t tn, size_t *notes)
{
	size_t orig, have, hdr = tn;
	char buf[96];

	if (nh[0] >> 4 == 4) {
		orig = rd16(nh + 2);
		have = (size_t)(nh[0] & 0x0f) * 4;
	} else {
		orig = IPV6_HDR + (size_t)rd16(nh + 4);
		have = IPV6_HDR;
	}
	/* TCP options were counted in their own note */
	if (proto == IPPROTO_TCP && tn >= 13 && (size_t)(th[12] >> 4) * 4 > hdr)
		hdr = (size_t)(th[12] >> 4) * 4;
	have += hdr;
	if (orig <= have)
		return;
	snprintf(buf, sizeof(buf), "%zu bytes of payload were not recorded: replayed without them",
		 orig - have);
	note(pkt, notes, buf);
}

static bool json_list_has(json_t *list, const char *word)
{
	size_t i;
	json_t *v;

	json_array_foreach (list, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), word) == 0)
			return true;
	return false;
}

/* The live verdict line: what the text output prints after "verdict". */
static void before_line(json_t *root, struct replay_packet *pkt)
{
	json_t *cause = json_object_get(root, "cause");
	json_t *summary = json_object_get(cause, "summary");
	const char *verdict = json_string_value(json_object_get(root, "verdict"));
	json_t *events = json_object_get(root, "events");

	if (json_is_string(summary)) {
		snprintf(pkt->before, sizeof(pkt->before), "%s", json_string_value(summary));
		return;
	}
	/* no cause: explain_cause_str()'s words for the cases JSON shows */
	if (verdict && !strcmp(verdict, "accept") && json_array_size(events) == 0)
		snprintf(pkt->before, sizeof(pkt->before),
			 "accept: no base chain but nattraced's own saw the packet, nothing in the ruleset stopped it");
	else if (json_is_object(json_object_get(root, "last_seen")))
		snprintf(pkt->before, sizeof(pkt->before),
			 "unknown: events were lost, and the packet may have gone on after the last one seen");
	else
		snprintf(pkt->before, sizeof(pkt->before),
			 "unknown: the trace ends without a verdict");
}

/* The mapping's four endpoints, all of the packet's family; false if one is not. */
static bool mapping_tuples(json_t *m, struct replay_packet *pkt)
{
	static const char *const keys[] = { "orig_src", "orig_dst", "reply_src", "reply_dst" };
	struct replay_ct *c = &pkt->ct;
	uint8_t *addrs[] = { c->orig_src, c->orig_dst, c->reply_src, c->reply_dst };
	uint16_t *ports[] = { &c->orig_sport, &c->orig_dport, &c->reply_sport, &c->reply_dport };
	char err[REPLAY_ERR_MAX];

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const char *ep = json_string_value(json_object_get(m, keys[k]));
		uint8_t l3;

		if (!ep || replay_parse_endpoint(ep, true, &l3, addrs[k], ports[k], err,
						 sizeof(err)) < 0 ||
		    l3 != pkt->info.l3)
			return false;
	}
	return true;
}

/*
 * The live connection's entry, to recreate in the clone: the mapping's
 * tuples (a NATed connection), else the packet's own, turned for a reply
 * (no NAT known). TCP and UDP only: their tuple is the packet's ports.
 */
static void conn_of(json_t *mapping, struct replay_packet *pkt)
{
	const struct packet_info *i = &pkt->info;
	struct replay_ct *c = &pkt->ct;
	size_t n = i->l3 == 6 ? 16 : 4;

	if (!pkt->established || !i->has_ports ||
	    (i->l4proto != IPPROTO_TCP && i->l4proto != IPPROTO_UDP))
		return;
	c->want = true;
	if (json_is_object(mapping) && mapping_tuples(mapping, pkt)) {
		c->from_mapping = true;
		return;
	}
	memcpy(c->orig_src, c->reply ? i->daddr : i->saddr, n);
	memcpy(c->orig_dst, c->reply ? i->saddr : i->daddr, n);
	c->orig_sport = c->reply ? i->dport : i->sport;
	c->orig_dport = c->reply ? i->sport : i->dport;
	memcpy(c->reply_src, c->orig_dst, n);
	memcpy(c->reply_dst, c->orig_src, n);
	c->reply_sport = c->orig_dport;
	c->reply_dport = c->orig_sport;
}

static int from_root(json_t *root, struct replay_packet *pkt, char *err, size_t errlen)
{
	json_t *raw, *ct, *v;
	const char *s, *hook;
	uint8_t nh[64], th[REPLAY_PKT_MAX];
	int nn, tn = 0, nhl, thl, r;
	size_t notes = 0;

	s = json_string_value(json_object_get(root, "type"));
	if (!s)
		return strbuf_error(err, errlen, "not a nattraced record (no \"type\")");
	if (strcmp(s, "trace") != 0)
		return -ENOENT;
	s = json_string_value(json_object_get(root, "id"));
	snprintf(pkt->id, sizeof(pkt->id), "%s", s ? s : "?");
	raw = json_object_get(root, "raw_headers");
	if (!raw)
		return strbuf_error(
			err, errlen,
			"line has no raw_headers (written by nattraced before 2026-12; record it again)");
	if (json_is_null(raw))
		return strbuf_error(err, errlen,
				    "trace %s kept no headers of its packet: nothing to replay",
				    pkt->id);
	if (!json_is_object(raw))
		return strbuf_error(err, errlen, "raw_headers is not an object");

	hook = json_string_value(json_object_get(raw, "hook"));
	/* a hook nft names, or none: never other text into a message */
	if (hook && !names_hook_static(hook))
		return strbuf_error(err, errlen, "raw_headers.hook is not a hook name");
	s = json_string_value(json_object_get(raw, "iif"));
	if (hook && !strcmp(hook, "output")) {
		pkt->origin = REPLAY_LOCAL_OUT;
	} else {
		if (!s || !s[0])
			return strbuf_error(err, errlen,
					    "raw_headers: no input interface for a packet first seen at %s",
					    hook ? hook : "an unknown hook");
		if (strlen(s) >= sizeof(pkt->iif))
			return strbuf_error(err, errlen,
					    "raw_headers.iif: longer than an interface name (15)");
		pkt->origin = REPLAY_FORWARDED_OR_INPUT;
		snprintf(pkt->iif, sizeof(pkt->iif), "%s", s);
		if (hook && strcmp(hook, "prerouting") != 0) {
			char buf[128];

			/* e.g. --hooks forward: after prerouting's NAT, not as it came in */
			snprintf(buf, sizeof(buf),
				 "first recorded at hook %s, not as it came in: injected as it was there",
				 hook);
			note(pkt, &notes, buf);
		}
	}
	v = json_object_get(raw, "mark");
	if (v && !json_is_integer(v))
		return strbuf_error(err, errlen, "raw_headers.mark is not a number");
	if (json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
		return strbuf_error(err, errlen, "raw_headers.mark is out of range");
	pkt->mark = (uint32_t)json_integer_value(v);

	s = json_string_value(json_object_get(raw, "network"));
	if (!s)
		return strbuf_error(err, errlen, "raw_headers.network is missing");
	nn = unhex("network", s, nh, sizeof(nh), err, errlen);
	if (nn < 0)
		return nn;
	s = json_string_value(json_object_get(raw, "transport"));
	if (s) {
		tn = unhex("transport", s, th, sizeof(th), err, errlen);
		if (tn < 0)
			return tn;
	}

	nhl = network_header(pkt, nh, (size_t)nn, &notes, err, errlen);
	if (nhl < 0)
		return nhl;
	{
		uint8_t proto = pkt->bytes[0] >> 4 == 4 ? pkt->bytes[9] : pkt->bytes[6];

		if (!tn && l4_csum_offset(proto) >= 0)
			return strbuf_error(err, errlen,
					    "raw_headers.transport is missing: no header to replay");
		thl = transport_header(pkt, (size_t)nhl, proto, th, (size_t)tn, &notes, err,
				       errlen);
		if (thl < 0)
			return thl;
		payload_note(pkt, nh, proto, th, (size_t)tn, &notes);
	}
	pkt->len = (size_t)nhl + (size_t)thl;
	fix_up(pkt->bytes, (size_t)nhl, pkt->len);

	ct = json_object_get(root, "ct");
	if (json_is_object(ct)) {
		json_t *state = json_object_get(ct, "state");
		const char *dir = json_string_value(json_object_get(ct, "direction"));

		pkt->ct_known = json_is_array(state);
		pkt->ct.reply = dir && !strcmp(dir, "reply");
		pkt->established = json_list_has(state, "established") ||
				   json_list_has(state, "related") || pkt->ct.reply;
	}
	before_line(root, pkt);
	r = parse_bytes(pkt, (size_t)nhl, err, errlen);
	if (r == 0)
		conn_of(json_object_get(root, "mapping"), pkt);
	return r;
}

int replay_packet_from_json(const char *line, struct replay_packet *ret, char *err, size_t errlen)
{
	struct replay_packet *pkt = ret;
	json_error_t jerr;
	json_t *root;
	int r;

	if (err && errlen)
		err[0] = '\0';
	memset(pkt, 0, sizeof(*pkt));
	root = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		/* jansson quotes the token it met: no control character to the terminal */
		for (char *c = jerr.text; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		return strbuf_error(err, errlen, "not JSON: %s (column %d)", jerr.text,
				    jerr.column);
	}
	if (!json_is_object(root))
		r = strbuf_error(err, errlen, "not a JSON object");
	else
		r = from_root(root, pkt, err, errlen);
	json_decref(root);
	if (r < 0) {
		int keep = r;

		memset(pkt, 0, sizeof(*pkt));
		return keep;
	}
	return 0;
}

/* ---- from the fields of a --check line ---- */

int replay_packet_build(struct replay_packet *pkt)
{
	const struct packet_info *p = &pkt->info;
	uint8_t *b = pkt->bytes, *th;
	size_t nhl, tl;
	bool echo;

	memset(b, 0, sizeof(pkt->bytes));
	switch (p->l3) {
	case 4:
		nhl = IPV4_HDR;
		b[0] = 0x45;
		wr16(b + 4, p->ip_id);
		/* Linux sets DF on TCP (path MTU discovery) */
		if (p->l4proto == IPPROTO_TCP)
			wr16(b + 6, IPV4_DF);
		b[8] = TTL;
		b[9] = p->l4proto;
		memcpy(b + 12, p->saddr, 4);
		memcpy(b + 16, p->daddr, 4);
		break;
	case 6:
		nhl = IPV6_HDR;
		wr32(b, 6u << 28 | (p->flow_label & 0xfffff));
		b[6] = p->l4proto;
		b[7] = TTL;
		memcpy(b + 8, p->saddr, 16);
		memcpy(b + 24, p->daddr, 16);
		break;
	default:
		return -EINVAL;
	}
	th = b + nhl;
	switch (p->l4proto) {
	case IPPROTO_TCP:
		tl = TCP_HDR;
		wr16(th, p->sport);
		wr16(th + 2, p->dport);
		wr32(th + 4, p->has_seq && p->tcp_seq ? p->tcp_seq : TCP_SEQ_FIXED);
		/* an ACK acknowledges something: any non-zero number */
		if (p->tcp_flags & 0x10)
			wr32(th + 8, 1);
		th[12] = (TCP_HDR / 4) << 4;
		th[13] = p->tcp_flags;
		wr16(th + 14, TCP_WINDOW);
		break;
	case IPPROTO_UDP:
		tl = UDP_HDR;
		wr16(th, p->sport);
		wr16(th + 2, p->dport);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if ((p->l4proto == IPPROTO_ICMP) != (p->l3 == 4))
			return -EINVAL;
		tl = ICMP_HDR;
		th[0] = p->icmp_type;
		th[1] = p->icmp_code;
		/* echo request and reply (RFC 792, RFC 4443): identifier, sequence */
		echo = p->l4proto == IPPROTO_ICMP ? p->icmp_type == 8 || p->icmp_type == 0
						  : p->icmp_type == 128 || p->icmp_type == 129;
		if (echo) {
			wr16(th + 4, ICMP_ECHO_ID);
			wr16(th + 6, 1);
		}
		break;
	default:
		return -EINVAL;
	}
	pkt->len = nhl + tl;
	fix_up(b, nhl, pkt->len);
	return packet_parse(b, nhl, th, tl, &pkt->info);
}
