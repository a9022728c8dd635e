/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>

#include "match.h"
#include "names.h"
#include "options.h"
#include "strbuf.h"

#define DEFAULT_TABLE	       "trace_debug"
#define DEFAULT_RATE	       "1/second"
/* A week: longer is almost certainly a typo in the unit. */
#define TIMEOUT_MAX	       (7 * 24 * 3600.0)
#define DEFAULT_STATS_INTERVAL 60
#define STATS_INTERVAL_MAX     (24 * 3600)

#include "options_int.h"

static const struct option long_options[] = {
	{ "match", required_argument, NULL, 'm' },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "count", required_argument, NULL, 'c' },
	{ "timeout", required_argument, NULL, 't' },
	{ "output", required_argument, NULL, 'o' },
	{ "table", required_argument, NULL, OPT_TABLE },
	{ "family", required_argument, NULL, OPT_FAMILY },
	{ "hooks", required_argument, NULL, OPT_HOOKS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT },
	{ "max-events", required_argument, NULL, OPT_MAX_EVENTS },
	{ "stats-interval", required_argument, NULL, OPT_STATS_INTERVAL },
	{ "nat-log", optional_argument, NULL, OPT_NAT_LOG },
	{ "nat-table", no_argument, NULL, OPT_NAT_TABLE },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "buffer-size", required_argument, NULL, OPT_BUFFER_SIZE },
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "follow", no_argument, NULL, OPT_FOLLOW },
	{ "follow-packets", required_argument, NULL, OPT_FOLLOW_PACKETS },
	{ "follow-timeout", required_argument, NULL, OPT_FOLLOW_TIMEOUT },
	{ "follow-max", required_argument, NULL, OPT_FOLLOW_MAX },
	{ "pcap", required_argument, NULL, OPT_PCAP },
	{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
	{ "summary", optional_argument, NULL, OPT_SUMMARY },
	{ "summary-only", no_argument, NULL, OPT_SUMMARY_ONLY },
	{ "verbose", no_argument, NULL, 'v' },
	{ "color", required_argument, NULL, OPT_COLOR },
	{ "replay", required_argument, NULL, OPT_REPLAY },
	{ "id", required_argument, NULL, OPT_ID },
	{ "change", required_argument, NULL, OPT_CHANGE },
	{ "change-file", required_argument, NULL, OPT_CHANGE_FILE },
	{ "check", required_argument, NULL, OPT_CHECK },
	{ "ruleset", required_argument, NULL, OPT_RULESET },
	{ "junit", required_argument, NULL, OPT_JUNIT },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{}
};

/* "5/minute" into buf, as nft writes it. */
static bool parse_rate(const char *s, char *buf, size_t len)
{
	unsigned long long n;
	const char *unit;

	if (match_parse_rate(s, &n, &unit) < 0)
		return false;
	snprintf(buf, len, "%llu/%s", n, unit);
	return true;
}

static int parse_hooks(const char *s, unsigned int *ret, char *err, size_t errlen)
{
	unsigned int hooks = 0;
	const char *p = s;

	while (*p) {
		size_t n = strcspn(p, ",");
		unsigned int h;

		for (h = 0; h < NF_INET_NUMHOOKS; h++)
			if (strlen(names_hook(h)) == n && strncmp(p, names_hook(h), n) == 0)
				break;
		if (h == NF_INET_NUMHOOKS)
			return strbuf_error(
				err, errlen,
				"--hooks: unknown hook '%.*s' (use prerouting, input, forward, output, postrouting)",
				(int)n, p);
		hooks |= 1u << h;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!hooks)
		return strbuf_error(err, errlen, "--hooks: no hook given");
	*ret = hooks;
	return 0;
}

/* A whole number in [min, max]: no sign, no suffix, no empty text. */
static bool parse_bounded(const char *s, unsigned long min, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*ret = v;
	return true;
}

/* "64K", "512M", "2G" (powers of 1024) or plain bytes, within [min, max]. */
static bool parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	}
	/* "512M", "512MB", "512MiB" */
	if (shift && (strcmp(end, "B") == 0 || strcmp(end, "iB") == 0))
		end += strlen(end);
	if (*end || v > (max >> shift))
		return false;
	v <<= shift;
	if (v < min)
		return false;
	*ret = v;
	return true;
}

bool options_table_name_ok(const char *s)
{
	size_t n = strlen(s);

	/* a subset of nft identifiers that needs no quoting anywhere */
	if (n == 0 || n > OPTIONS_TABLE_NAME_MAX)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/*
 * Words nft's scanner turns into keywords wherever a table name stands:
 * "add table inet counter" is a syntax error, so such a --table would
 * fail only at install time, as a runtime error (exit 1) that a service's
 * RestartPreventExitStatus=2 does not stop. The list is every word that
 * nft 1.0.6 refuses as a table name, found by trying each token of its
 * grammar in "add table inet|ip|ip6 WORD" (the same words for all three),
 * plus the few that later releases made top-level keywords (destroy, last,
 * tunnel, vxlan, vni, geneve, gre, gretap). The scanner is case-sensitive:
 * "Counter" is a name. Sorted for bsearch().
 */
static const char *const nft_keywords[] = {
	"accept",   "add",	"ah",	     "all",	 "and",	     "arp",	   "auto-merge",
	"bridge",   "cgroup",	"chain",     "comment",	 "comp",     "constant",   "continue",
	"counter",  "cpu",	"create",    "ct",	 "day",	     "dccp",	   "define",
	"delete",   "describe", "destroy",   "device",	 "devices",  "dnat",	   "drop",
	"dst",	    "dup",	"dynamic",   "ecn",	 "element",  "elements",   "eq",
	"esp",	    "ether",	"exists",    "expires",	 "export",   "exthdr",	   "fib",
	"flags",    "flow",	"flowtable", "flush",	 "frag",     "fwd",	   "gc-interval",
	"ge",	    "geneve",	"get",	     "goto",	 "gre",	     "gretap",	   "gt",
	"handle",   "hbh",	"hook",	     "hour",	 "ibriport", "ibrname",	   "icmp",
	"icmpv6",   "igmp",	"iif",	     "iifgroup", "iifname",  "iiftype",	   "import",
	"include",  "index",	"inet",	     "insert",	 "interval", "ip",	   "ip6",
	"ipsec",    "jhash",	"jump",	     "last",	 "le",	     "limit",	   "list",
	"log",	    "lshift",	"lt",	     "map",	 "mark",     "masquerade", "meta",
	"meter",    "mh",	"missing",   "monitor",	 "ne",	     "netdev",	   "nftrace",
	"not",	    "notrack",	"numgen",    "obriport", "obrname",  "offload",	   "oif",
	"oifgroup", "oifname",	"oiftype",   "or",	 "osf",	     "pkttype",	   "policy",
	"position", "priority", "queue",     "quota",	 "random",   "redefine",   "redirect",
	"reject",   "rename",	"replace",   "reset",	 "return",   "rshift",	   "rt",
	"rt0",	    "rt2",	"rtclassid", "rule",	 "ruleset",  "sctp",	   "secmark",
	"set",	    "size",	"skgid",     "skuid",	 "snat",     "socket",	   "srh",
	"symhash",  "synproxy", "table",     "tcp",	 "th",	     "time",	   "timeout",
	"tproxy",   "tunnel",	"type",	     "typeof",	 "udp",	     "udplite",	   "undefine",
	"update",   "vlan",	"vmap",	     "vni",	 "vxlan",    "xor",	   "xt",
};

static int cmp_word(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

bool options_nft_keyword(const char *word)
{
	return word && bsearch(word, nft_keywords, sizeof(nft_keywords) / sizeof(nft_keywords[0]),
			       sizeof(nft_keywords[0]), cmp_word) != NULL;
}

/* The whole-number options: each one's bounds and the field it sets. */
static const struct bounded_option {
	int opt;
	const char *name;
	const char *what;
	unsigned long min, max;
	size_t field; /* offsetof(struct options, an unsigned int) */
} bounded_options[] = {
	{ OPT_MAX_INFLIGHT, "max-inflight", "a whole number", 1, OPTIONS_MAX_INFLIGHT_LIMIT,
	  offsetof(struct options, max_inflight) },
	{ OPT_MAX_EVENTS, "max-events", "a whole number", 1, OPTIONS_MAX_EVENTS_LIMIT,
	  offsetof(struct options, max_events) },
	{ OPT_STATS_INTERVAL, "stats-interval", "a whole number of seconds", 0, STATS_INTERVAL_MAX,
	  offsetof(struct options, stats_interval) },
	{ OPT_FOLLOW_PACKETS, "follow-packets", "a whole number", 1, OPTIONS_FOLLOW_PACKETS_LIMIT,
	  offsetof(struct options, follow_packets) },
	{ OPT_FOLLOW_MAX, "follow-max", "a whole number", 1, OPTIONS_FOLLOW_MAX_LIMIT,
	  offsetof(struct options, follow_max) },
	{ OPT_SUMMARY, "summary", "a whole number of seconds", 0, STATS_INTERVAL_MAX,
	  offsetof(struct options, summary_interval) },
};

/* Seconds, fractions allowed, in [min, max]; min itself only if min_ok. */
static bool parse_seconds(const char *s, double min, bool min_ok, double max, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || !isfinite(v) || v < min || (!min_ok && v == min) ||
	    v > max)
		return false;
	*ret = v;
	return true;
}

/* An option that takes a number. 0, -EINVAL and why, or 1: c is not one. */
static int parse_number_option(struct options *o, int c, const char *arg, char *err, size_t errlen)
{
	unsigned long v;
	char *end;

	for (size_t i = 0; i < sizeof(bounded_options) / sizeof(bounded_options[0]); i++) {
		const struct bounded_option *b = &bounded_options[i];

		if (b->opt != c)
			continue;
		if (!parse_bounded(arg, b->min, b->max, &v))
			return strbuf_error(err, errlen, "--%s: '%s' is not %s from %lu to %lu",
					    b->name, arg, b->what, b->min, b->max);
		*(unsigned int *)((char *)o + b->field) = (unsigned int)v;
		return 0;
	}
	switch (c) {
	case 'c':
		errno = 0;
		o->count = strtoul(arg, &end, 10);
		if (errno || *end || arg[0] < '0' || arg[0] > '9' || o->count == 0)
			return strbuf_error(err, errlen,
					    "--count: '%s' is not a positive whole number", arg);
		return 0;
	case 't':
		if (!parse_seconds(arg, 0, false, TIMEOUT_MAX, &o->timeout))
			return strbuf_error(
				err, errlen,
				"--timeout: '%s' is not a number of seconds between 0 and %.0f",
				arg, TIMEOUT_MAX);
		return 0;
	case OPT_FOLLOW_TIMEOUT:
		if (!parse_seconds(arg, OPTIONS_FOLLOW_TIMEOUT_MIN, true,
				   OPTIONS_FOLLOW_TIMEOUT_MAX, &o->follow_timeout))
			return strbuf_error(
				err, errlen,
				"--follow-timeout: '%s' is not a number of seconds from %.1f to %.0f",
				arg, OPTIONS_FOLLOW_TIMEOUT_MIN, OPTIONS_FOLLOW_TIMEOUT_MAX);
		return 0;
	case OPT_BUFFER_SIZE:
		if (!parse_size(arg, OPTIONS_BUFFER_SIZE_MIN, OPTIONS_BUFFER_SIZE_MAX,
				&o->buffer_size))
			return strbuf_error(
				err, errlen,
				"--buffer-size: '%s' is not a size from 64K to 64G (bytes, or with a K, M or G suffix)",
				arg);
		return 0;
	}
	return 1;
}

/* What --output and --family name. */
struct word_value {
	const char *word;
	int value;
};

static const struct word_value output_words[] = {
	{ "text", OUTPUT_TEXT },
	{ "json", OUTPUT_JSON },
	{ "journal", OUTPUT_JOURNAL },
};

static const struct word_value family_words[] = {
	{ "inet", NFPROTO_INET },
	{ "ip", NFPROTO_IPV4 },
	{ "ip6", NFPROTO_IPV6 },
};

static bool find_word(const struct word_value *words, size_t n, const char *word, int *ret)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(word, words[i].word) == 0) {
			*ret = words[i].value;
			return true;
		}
	}
	return false;
}

/* An option that takes a word or a name. 0, -EINVAL and why, or 1: c is not one. */
static int parse_word_option(struct options *o, int c, const char *arg, char *err, size_t errlen)
{
	int v;

	switch (c) {
	case 'o':
		if (!find_word(output_words, sizeof(output_words) / sizeof(output_words[0]), arg,
			       &v))
			return strbuf_error(err, errlen,
					    "--output: '%s' is not text, json or journal", arg);
		o->output = v;
		return 0;
	case OPT_FAMILY:
		if (!find_word(family_words, sizeof(family_words) / sizeof(family_words[0]), arg,
			       &v))
			return strbuf_error(err, errlen, "--family: '%s' is not inet, ip or ip6",
					    arg);
		o->family = (uint8_t)v;
		return 0;
	case OPT_TABLE:
		if (!options_table_name_ok(arg))
			return strbuf_error(
				err, errlen,
				"--table: '%s' is not a valid table name (a letter, then up to 63 letters, digits, '_' or '-')",
				arg);
		if (options_nft_keyword(arg))
			return strbuf_error(
				err, errlen,
				"--table: '%s' is an nft keyword and cannot name a table; choose another name",
				arg);
		o->table = arg;
		return 0;
	case OPT_HOOKS:
		return parse_hooks(arg, &o->hooks, err, errlen);
	case OPT_NAT_LOG:
		if (!arg || strcmp(arg, "match") == 0)
			o->nat_log = NAT_LOG_MATCH;
		else if (strcmp(arg, "all") == 0)
			o->nat_log = NAT_LOG_ALL;
		else
			return strbuf_error(
				err, errlen,
				"--nat-log: '%s' is not 'match' or 'all' (use --nat-log or --nat-log=all)",
				arg);
		return 0;
	case OPT_NETNS:
		/* main resolves and enters it (netns.c), before any socket */
		if (!arg[0])
			return strbuf_error(
				err, errlen,
				"--netns: empty (give an ip netns name, a PID or a path)");
		o->netns = arg;
		return 0;
	case OPT_CONFIG:
		if (!arg[0])
			return strbuf_error(err, errlen, "--config: empty file name");
		o->config = arg;
		return 0;
	case OPT_COLOR:
		if (strcmp(arg, "auto") == 0)
			o->color = COLOR_AUTO;
		else if (strcmp(arg, "always") == 0)
			o->color = COLOR_ALWAYS;
		else if (strcmp(arg, "never") == 0)
			o->color = COLOR_NEVER;
		else
			return strbuf_error(err, errlen,
					    "--color: '%s' is not auto, always or never", arg);
		return 0;
	case OPT_PCAP:
	case OPT_METRICS_FILE:
		if (!arg[0])
			return strbuf_error(err, errlen, "--%s: empty file name",
					    c == OPT_PCAP ? "pcap" : "metrics-file");
		*(c == OPT_PCAP ? &o->pcap : &o->metrics_file) = arg;
		return 0;
	}
	return options_parse_replay(o, c, arg, err, errlen);
}

/* The options together, once each was read, and the rate last. */
static int check_options(struct options *o, const char *rate, char *err, size_t errlen)
{
	int r = options_check_replay(o, err, errlen);

	if (r < 0 || o->replay || o->check)
		return r;
	if (o->nat_table && o->nat_log)
		return strbuf_error(
			err, errlen,
			"--nat-table prints the table and exits: it does not go with --nat-log");
	/* Without --match, --nat-table and --nat-log=all show every mapping and trace nothing. */
	if (!o->match && o->count && (o->nat_table || o->nat_log == NAT_LOG_ALL))
		return strbuf_error(err, errlen,
				    "--count counts packet timelines: it needs --match");
	/* With --config the file may give the match: config_options() checks. */
	if (!o->match && !o->config && !o->nat_table && o->nat_log != NAT_LOG_ALL)
		return strbuf_error(err, errlen, "--match is required%s",
				    o->nat_log ? " (or --nat-log=all to log every NAT mapping)"
					       : "");
	if (strcmp(rate, "none") == 0) {
		o->rate_none = true;
		o->rate[0] = '\0';
	} else if (!parse_rate(rate, o->rate, sizeof(o->rate))) {
		return strbuf_error(err, errlen,
				    "--rate: '%s' is not N/second, N/minute, N/hour, N/day or none",
				    rate);
	}
	return 0;
}

int options_parse(int argc, char **argv, struct options *ret, char *err, size_t errlen)
{
	struct options o = {
		.output = OUTPUT_TEXT,
		.table = DEFAULT_TABLE,
		.family = NFPROTO_INET,
		.hooks = 1u << NF_INET_PRE_ROUTING | 1u << NF_INET_LOCAL_OUT,
		.max_inflight = OPTIONS_MAX_INFLIGHT_DEFAULT,
		.max_events = OPTIONS_MAX_EVENTS_DEFAULT,
		.stats_interval = DEFAULT_STATS_INTERVAL,
		.buffer_size = OPTIONS_BUFFER_SIZE_DEFAULT,
		.follow_packets = OPTIONS_FOLLOW_PACKETS_DEFAULT,
		.follow_timeout = OPTIONS_FOLLOW_TIMEOUT_DEFAULT,
		.follow_max = OPTIONS_FOLLOW_MAX_DEFAULT,
	};
	const char *rate = DEFAULT_RATE;
	int c, r;

	snprintf(o.rate, sizeof(o.rate), "%s", DEFAULT_RATE);
	/* The caller may parse more than once (tests): start afresh. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:c:t:o:hVv", long_options, NULL)) != -1) {
		switch (c) {
		case 'm':
			o.match = optarg;
			continue;
		case OPT_RATE:
			rate = optarg;
			continue;
		case OPT_NAT_TABLE:
			o.nat_table = true;
			continue;
		case OPT_FOLLOW:
			o.follow = true;
			continue;
		case OPT_VERIFY:
			o.verify = true;
			continue;
		case OPT_SUMMARY_ONLY:
			o.summary_only = true;
			o.summary = true;
			continue;
		case OPT_SUMMARY:
			o.summary = true;
			/*
			 * "--summary 10" as well as "--summary=10": a bare word
			 * after it would be refused as a stray argument anyway
			 */
			if (!optarg && optind < argc && argv[optind][0] >= '0' &&
			    argv[optind][0] <= '9')
				optarg = argv[optind++];
			if (!optarg)
				continue;
			break;
		case 'h':
			o.help = true;
			continue;
		case 'V':
			o.version = true;
			continue;
		case 'v':
			o.verbose = true;
			continue;
		case ':':
			return strbuf_error(err, errlen, "%s needs an argument", argv[optind - 1]);
		}
		r = parse_number_option(&o, c, optarg, err, errlen);
		if (r > 0)
			r = parse_word_option(&o, c, optarg, err, errlen);
		if (r > 0)
			return strbuf_error(err, errlen, "unknown option '%s'", argv[optind - 1]);
		if (r < 0)
			return r;
	}
	if (optind < argc)
		return strbuf_error(err, errlen,
				    "unexpected argument '%s' (quote the match: --match \"...\")",
				    argv[optind]);
	if (!o.help && !o.version) {
		r = check_options(&o, rate, err, errlen);
		if (r < 0)
			return r;
	}
	*ret = o;
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

unsigned int options_reload_kept(const struct options *was, const struct options *now, char *buf,
				 size_t len)
{
	const struct {
		const char *name;
		bool changed;
	} kept[] = {
		{ "table", !same_str(was->table, now->table) },
		{ "family", was->family != now->family },
		{ "output", was->output != now->output },
		{ "count", was->count != now->count },
		{ "timeout", was->timeout != now->timeout },
		{ "netns", !same_str(was->netns, now->netns) },
		{ "max-inflight", was->max_inflight != now->max_inflight },
		{ "max-events", was->max_events != now->max_events },
		{ "stats-interval", was->stats_interval != now->stats_interval },
		{ "nat-log", was->nat_log != now->nat_log },
		/* command line only: the same argv gives the same values */
		{ "buffer-size", was->buffer_size != now->buffer_size },
		{ "follow", was->follow != now->follow },
		{ "follow-packets", was->follow_packets != now->follow_packets },
		{ "follow-timeout", was->follow_timeout != now->follow_timeout },
		{ "follow-max", was->follow_max != now->follow_max },
		{ "pcap", !same_str(was->pcap, now->pcap) },
		{ "metrics-file", !same_str(was->metrics_file, now->metrics_file) },
		{ "summary",
		  was->summary != now->summary || was->summary_interval != now->summary_interval },
		{ "color", was->color != now->color },
		{ "verbose", was->verbose != now->verbose },
	};
	unsigned int n = 0;
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		int w;

		if (!kept[i].changed)
			continue;
		n++;
		if (used >= len)
			continue;
		w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", kept[i].name);
		if (w > 0)
			used += (size_t)w;
	}
	return n;
}

const char *options_family_keyword(uint8_t nfproto)
{
	/* the families a trace table can have */
	if (nfproto != NFPROTO_INET && nfproto != NFPROTO_IPV4 && nfproto != NFPROTO_IPV6)
		return NULL;
	return names_family(nfproto);
}

const char *options_hook_keyword(unsigned int hook)
{
	return names_hook(hook);
}
