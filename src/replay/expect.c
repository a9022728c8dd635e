/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One line of a --check file (replaypkt.h, docs/replay.md "The check
 * file"):
 *
 *   PROTO SRC -> DST [iif NAME] [mark N] [FLAGS | ICMP-TYPE]: VERDICT [by rule handle N | by policy]
 *
 * Pure: text in, an expectation with its packet's bytes out. Every error
 * names the word and what was expected there; the caller adds file:line.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replaypkt.h"
#include "strbuf.h"

#define MAX_WORDS 24

struct name_value {
	const char *name;
	uint8_t value;
};

/* nft's names (nft describe icmp type / icmpv6 type) */
static const struct name_value icmp_types[] = {
	{ "echo-reply", 0 },	     { "destination-unreachable", 3 }, { "redirect", 5 },
	{ "echo-request", 8 },	     { "router-advertisement", 9 },    { "router-solicitation", 10 },
	{ "time-exceeded", 11 },     { "parameter-problem", 12 },      { "timestamp-request", 13 },
	{ "timestamp-reply", 14 },
};

static const struct name_value icmpv6_types[] = {
	{ "destination-unreachable", 1 }, { "packet-too-big", 2 },
	{ "time-exceeded", 3 },		  { "parameter-problem", 4 },
	{ "echo-request", 128 },	  { "echo-reply", 129 },
	{ "nd-router-solicit", 133 },	  { "nd-router-advert", 134 },
	{ "nd-neighbor-solicit", 135 },	  { "nd-neighbor-advert", 136 },
	{ "nd-redirect", 137 },
};

/* packet_tcp_flags_str()'s names, bit i for names[i] */
static const char *const tcp_flag_names[8] = {
	"fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr",
};

struct words {
	char *w[MAX_WORDS];
	unsigned int n;
};

/* Split s in place at blanks. -EINVAL when there are too many words. */
static int split(char *s, struct words *ret)
{
	ret->n = 0;
	for (char *t = strtok(s, " \t"); t; t = strtok(NULL, " \t")) {
		if (ret->n == MAX_WORDS)
			return -EINVAL;
		ret->w[ret->n++] = t;
	}
	return 0;
}

/* base 10, or 0 for C's prefixes (a mark: 0x...) */
static bool parse_u64(const char *s, int base, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!s[0] || s[0] == '-' || s[0] == '+' || isspace((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return false;
	*ret = v;
	return true;
}

/*
 * "198.51.100.2:40000", "[2001:db8::2]:53", "198.51.100.2", "[2001:db8::2]"
 * or "2001:db8::2" (no port). l3 is 4 or 6.
 */
int replay_parse_endpoint(const char *word, bool want_port, uint8_t *ret_l3, uint8_t *addr,
			  uint16_t *ret_port, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 8];
	const char *port = NULL, *colon;
	uint64_t v;
	size_t n;

	if (word[0] == '[') {
		const char *close = strchr(word, ']');

		if (!close)
			return strbuf_error(err, errlen, "'%s': expected ']' after an IPv6 address",
					    word);
		n = (size_t)(close - word - 1);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return strbuf_error(err, errlen, "'%s': expected ':PORT' after ']'", word);
		if (n >= sizeof(host))
			return strbuf_error(err, errlen, "'%s': not an IPv6 address", word);
		memcpy(host, word + 1, n);
		host[n] = '\0';
		if (inet_pton(AF_INET6, host, addr) != 1)
			return strbuf_error(err, errlen, "'%s': '%s' is not an IPv6 address", word,
					    host);
		*ret_l3 = 6;
	} else {
		colon = strchr(word, ':');
		if (colon && strchr(colon + 1, ':')) {
			/* several colons: an IPv6 address without a port */
			if (strlen(word) >= sizeof(host) || inet_pton(AF_INET6, word, addr) != 1)
				return strbuf_error(err, errlen,
						    "'%s': expected ADDRESS:PORT, [IPV6]:PORT or an address",
						    word);
			if (want_port)
				return strbuf_error(err, errlen,
						    "'%s': expected a port: write [%s]:PORT", word,
						    word);
			*ret_l3 = 6;
			*ret_port = 0;
			return 0;
		}
		n = colon ? (size_t)(colon - word) : strlen(word);
		if (n >= sizeof(host))
			return strbuf_error(err, errlen, "'%s': not an IPv4 address", word);
		memcpy(host, word, n);
		host[n] = '\0';
		if (inet_pton(AF_INET, host, addr) != 1)
			return strbuf_error(err, errlen,
					    "'%s': expected ADDRESS:PORT, [IPV6]:PORT or an address",
					    word);
		if (colon)
			port = colon + 1;
		*ret_l3 = 4;
	}
	if (!want_port) {
		if (port)
			return strbuf_error(err, errlen, "'%s': this protocol has no ports", word);
		*ret_port = 0;
		return 0;
	}
	if (!port)
		return strbuf_error(err, errlen, "'%s': expected a port (ADDRESS:PORT)", word);
	if (!parse_u64(port, 10, 65535, &v) || v == 0 || !isdigit((unsigned char)port[0]))
		return strbuf_error(err, errlen, "'%s': port '%s' is not a number from 1 to 65535",
				    word, port);
	*ret_port = (uint16_t)v;
	return 0;
}

/* "syn", "syn,ack": 0 and the bits, or -EINVAL naming the word */
static int parse_tcp_flags(const char *word, uint8_t *ret, char *err, size_t errlen)
{
	char buf[64], *save = NULL;
	uint8_t flags = 0;

	if (strlen(word) >= sizeof(buf))
		return strbuf_error(err, errlen, "'%s': too long for TCP flags", word);
	snprintf(buf, sizeof(buf), "%s", word);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned int i;

		for (i = 0; i < 8; i++)
			if (!strcmp(t, tcp_flag_names[i]))
				break;
		if (i == 8)
			return strbuf_error(
				err, errlen,
				"unknown word '%s': expected iif NAME, mark N or TCP flags (syn, ack, fin, rst, psh, urg, ecn, cwr, comma-separated)",
				t);
		flags |= (uint8_t)(1u << i);
	}
	if (!flags)
		return strbuf_error(err, errlen, "'%s': no TCP flag", word);
	*ret = flags;
	return 0;
}

static bool icmp_type(uint8_t l4proto, const char *word, uint8_t *ret)
{
	const struct name_value *t = l4proto == IPPROTO_ICMP ? icmp_types : icmpv6_types;
	size_t n = l4proto == IPPROTO_ICMP ? sizeof(icmp_types) / sizeof(icmp_types[0])
					   : sizeof(icmpv6_types) / sizeof(icmpv6_types[0]);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].name, word)) {
			*ret = t[i].value;
			return true;
		}
	return false;
}

static int parse_proto(const char *word, uint8_t *ret, char *err, size_t errlen)
{
	static const struct name_value protos[] = {
		{ "tcp", IPPROTO_TCP },
		{ "udp", IPPROTO_UDP },
		{ "icmp", IPPROTO_ICMP },
		{ "icmpv6", IPPROTO_ICMPV6 },
	};

	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (!strcmp(word, protos[i].name)) {
			*ret = protos[i].value;
			return 0;
		}
	return strbuf_error(err, errlen, "unknown protocol '%s': expected tcp, udp, icmp or icmpv6",
			    word);
}

/* The packet: PROTO SRC -> DST [iif NAME] [mark N] [FLAGS | ICMP-TYPE] */
static int parse_packet(const struct words *ws, struct replay_packet *pkt, char *err,
			size_t errlen)
{
	struct packet_info *p = &pkt->info;
	bool ports, icmp, has_mark = false, has_kind = false;
	uint8_t l3_dst;
	int r;

	if (ws->n < 4)
		return strbuf_error(err, errlen,
				    "expected PROTO SRC -> DST before ':' (e.g. tcp 198.51.100.2:40000 -> 198.51.100.1:22)");
	r = parse_proto(ws->w[0], &p->l4proto, err, errlen);
	if (r < 0)
		return r;
	ports = p->l4proto == IPPROTO_TCP || p->l4proto == IPPROTO_UDP;
	icmp = !ports;
	r = replay_parse_endpoint(ws->w[1], ports, &p->l3, p->saddr, &p->sport, err, errlen);
	if (r < 0)
		return r;
	if (strcmp(ws->w[2], "->") != 0)
		return strbuf_error(err, errlen, "unknown word '%s': expected '->' between SRC and DST",
				    ws->w[2]);
	r = replay_parse_endpoint(ws->w[3], ports, &l3_dst, p->daddr, &p->dport, err, errlen);
	if (r < 0)
		return r;
	if (l3_dst != p->l3)
		return strbuf_error(err, errlen, "'%s' -> '%s': one address is IPv4, the other IPv6",
				    ws->w[1], ws->w[3]);
	if (p->l4proto == IPPROTO_ICMP && p->l3 == 6)
		return strbuf_error(err, errlen, "icmp with IPv6 addresses: expected icmpv6");
	if (p->l4proto == IPPROTO_ICMPV6 && p->l3 == 4)
		return strbuf_error(err, errlen, "icmpv6 with IPv4 addresses: expected icmp");
	p->has_ports = ports;
	if (p->l4proto == IPPROTO_TCP)
		p->tcp_flags = 0x02; /* syn */
	if (icmp) {
		p->icmp_type = p->l4proto == IPPROTO_ICMP ? 8 : 128; /* echo-request */
		p->has_icmp = true;
	}

	pkt->origin = REPLAY_LOCAL_OUT;
	for (unsigned int i = 4; i < ws->n; i++) {
		const char *w = ws->w[i];
		uint64_t v;

		if (!strcmp(w, "iif")) {
			if (pkt->iif[0])
				return strbuf_error(err, errlen, "iif given twice");
			if (++i == ws->n)
				return strbuf_error(err, errlen, "expected an interface name after iif");
			if (strlen(ws->w[i]) >= sizeof(pkt->iif))
				return strbuf_error(err, errlen,
						    "iif '%s': longer than an interface name (15)",
						    ws->w[i]);
			snprintf(pkt->iif, sizeof(pkt->iif), "%s", ws->w[i]);
			pkt->origin = REPLAY_FORWARDED_OR_INPUT;
		} else if (!strcmp(w, "mark")) {
			if (has_mark)
				return strbuf_error(err, errlen, "mark given twice");
			if (++i == ws->n)
				return strbuf_error(err, errlen, "expected a number after mark");
			if (!parse_u64(ws->w[i], 0, UINT32_MAX, &v))
				return strbuf_error(err, errlen,
						    "mark '%s': expected a number from 0 to 0xffffffff",
						    ws->w[i]);
			pkt->mark = (uint32_t)v;
			has_mark = true;
		} else if (has_kind) {
			return strbuf_error(err, errlen, "unknown word '%s': expected iif, mark or ':'",
					    w);
		} else if (p->l4proto == IPPROTO_TCP) {
			r = parse_tcp_flags(w, &p->tcp_flags, err, errlen);
			if (r < 0)
				return r;
			has_kind = true;
		} else if (icmp) {
			if (!icmp_type(p->l4proto, w, &p->icmp_type))
				return strbuf_error(
					err, errlen,
					"unknown word '%s': expected iif NAME, mark N or an %s type (echo-request, echo-reply, destination-unreachable, ...)",
					w, p->l4proto == IPPROTO_ICMP ? "icmp" : "icmpv6");
			has_kind = true;
		} else {
			return strbuf_error(err, errlen,
					    "unknown word '%s': expected iif NAME, mark N or ':'", w);
		}
	}
	return 0;
}

/* VERDICT [by rule handle N | by policy] */
static int parse_verdict(const struct words *ws, struct expectation *exp, char *err,
			 size_t errlen)
{
	const char *v;

	if (ws->n == 0)
		return strbuf_error(err, errlen, "expected a verdict after ':' (accept, drop or reject)");
	v = ws->w[0];
	if (!strcmp(v, "accept"))
		exp->verdict = EXPECT_ACCEPT;
	else if (!strcmp(v, "drop"))
		exp->verdict = EXPECT_DROP;
	else if (!strcmp(v, "reject"))
		exp->verdict = EXPECT_REJECT;
	else
		return strbuf_error(err, errlen, "unknown verdict '%s': expected accept, drop or reject",
				    v);
	if (ws->n == 1)
		return 0;
	if (strcmp(ws->w[1], "by") != 0)
		return strbuf_error(err, errlen, "unknown word '%s' after the verdict: expected 'by'",
				    ws->w[1]);
	if (ws->n == 3 && !strcmp(ws->w[2], "policy")) {
		if (exp->verdict == EXPECT_REJECT)
			return strbuf_error(err, errlen,
					    "reject by policy: a chain's policy is accept or drop");
		exp->by_policy = true;
		return 0;
	}
	if (ws->n >= 3 && !strcmp(ws->w[2], "rule")) {
		if (ws->n < 5 || strcmp(ws->w[3], "handle") != 0)
			return strbuf_error(err, errlen, "expected 'by rule handle N'");
		if (!parse_u64(ws->w[4], 10, UINT64_MAX, &exp->handle) ||
		    !isdigit((unsigned char)ws->w[4][0]))
			return strbuf_error(err, errlen, "handle '%s': expected a number", ws->w[4]);
		if (ws->n > 5)
			return strbuf_error(err, errlen, "unknown word '%s' after the handle",
					    ws->w[5]);
		exp->has_handle = true;
		return 0;
	}
	if (ws->n >= 3 && strcmp(ws->w[2], "policy") != 0)
		return strbuf_error(err, errlen,
				    "unknown word '%s' after 'by': expected 'rule handle N' or 'policy'",
				    ws->w[2]);
	if (ws->n > 3)
		return strbuf_error(err, errlen, "unknown word '%s' after 'by policy'", ws->w[3]);
	return strbuf_error(err, errlen, "expected 'rule handle N' or 'policy' after 'by'");
}

/* The ':' before the verdict: the first one followed by a blank or the end. */
static char *verdict_colon(char *s)
{
	for (char *c = strchr(s, ':'); c; c = strchr(c + 1, ':'))
		if (c[1] == '\0' || c[1] == ' ' || c[1] == '\t')
			return c;
	return NULL;
}

int expect_parse_line(const char *line, unsigned int lineno, struct expectation *ret, char *err,
		      size_t errlen)
{
	char buf[REPLAY_TEXT_MAX], *start, *end, *colon;
	struct expectation exp = { .line = lineno };
	struct words left, right;
	size_t n;
	int r;

	if (err && errlen)
		err[0] = '\0';
	n = strcspn(line, "#\n");
	if (n >= sizeof(buf))
		return strbuf_error(err, errlen, "line longer than %d characters",
				    REPLAY_TEXT_MAX - 1);
	memcpy(buf, line, n);
	buf[n] = '\0';
	start = buf;
	while (*start == ' ' || *start == '\t' || *start == '\r')
		start++;
	end = start + strlen(start);
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	if (!*start)
		return 0;
	/* the words go into messages for a terminal: no control characters */
	for (const char *c = start; *c; c++)
		if ((unsigned char)*c < 0x20 && *c != '\t')
			return strbuf_error(err, errlen, "control character 0x%02x at column %zu",
					    (unsigned char)*c, (size_t)(c - buf) + 1);
		else if (*c == 0x7f)
			return strbuf_error(err, errlen, "control character 0x7f at column %zu",
					    (size_t)(c - buf) + 1);
	snprintf(exp.text, sizeof(exp.text), "%s", start);

	colon = verdict_colon(start);
	if (!colon)
		return strbuf_error(err, errlen, "expected ': VERDICT' (accept, drop or reject)");
	*colon = '\0';
	if (split(start, &left) < 0 || split(colon + 1, &right) < 0)
		return strbuf_error(err, errlen, "too many words");
	r = parse_packet(&left, &exp.pkt, err, errlen);
	if (r < 0)
		return r;
	r = parse_verdict(&right, &exp, err, errlen);
	if (r < 0)
		return r;
	snprintf(exp.pkt.id, sizeof(exp.pkt.id), "line %u", lineno);
	r = replay_packet_build(&exp.pkt);
	if (r < 0)
		return strbuf_error(err, errlen, "cannot build this packet");
	*ret = exp;
	return 1;
}
