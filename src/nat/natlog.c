/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The edge of the NAT log: the ctnetlink event socket (libmnl through
 * nlsock, messages parsed by libnetfilter_conntrack in natmap.c), table
 * dumps (libnetfilter_conntrack's nfct_query), and the two modes that run
 * without a trace: --nat-table and --nat-log=all without --match.
 *
 * Conntrack events are multicast like trace events: nothing is retried,
 * so a full receive buffer loses them (ENOBUFS, counted). The kernel only
 * attaches event state to connections created while someone listens
 * (net.netfilter.nf_conntrack_events=2, the default): connections older
 * than the daemon may end without a destroy event.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "nattraced.h"
#include "natcache.h"
#include "clock.h"
#include "log.h"
#include "natlog.h"
#include "nlsock.h"
#include "sink.h"
#include "trace.h"
#include "tracetable.h"

#define NATLOG_DRAIN_BATCH 4096
/* A ctnetlink request's answers: one receive at a time, and the longest wait for one. */
#define NATLOG_CT_BUF	   65536
#define NATLOG_CT_WAIT_S   1
/* --nat-table keeps rows to align them; beyond this they are counted. */
#define NATTABLE_MAX_ROWS  (256 * 1024)

struct natlog {
	struct nlsock *sock;
	struct natcache *cache;
	bool filtered;
	struct natfilter filter;
	uint64_t events, printed, not_nat, not_matched, malformed, enobufs;
	uint64_t lookups, found;
	struct sink *sink;	 /* the daemon's output */
	uint64_t out_dropped;	 /* mappings a full output buffer dropped */
	uint64_t journal_errors; /* --output journal: entries journald did not take */
};

int natlog_open(struct sink *sink, struct natlog **ret)
{
	static const unsigned int more[] = { NFNLGRP_CONNTRACK_UPDATE, NFNLGRP_CONNTRACK_DESTROY };
	struct natlog *l;
	int r;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->sink = sink;
	r = natcache_new(NATCACHE_DEFAULT_SIZE, &l->cache);
	if (r < 0)
		goto fail;
	/* Same 16 MiB as the trace socket: an event storm is a burst too. */
	r = nlsock_open(NFNLGRP_CONNTRACK_NEW, NLSOCK_RCVBUF, &l->sock);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
		if (setsockopt(nlsock_fd(l->sock), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &more[i],
			       sizeof(more[i])) < 0) {
			r = -errno;
			goto fail;
		}
	}
	*ret = l;
	return 0;
fail:
	natlog_close(l);
	return r;
}

struct natlog *natlog_close(struct natlog *l)
{
	if (!l)
		return NULL;
	nlsock_close(l->sock);
	natcache_free(l->cache);
	free(l);
	return NULL;
}

int natlog_fd(const struct natlog *l)
{
	return nlsock_fd(l->sock);
}

static bool wanted(const struct natlog *l, const struct natmap *m)
{
	return !l->filtered || natfilter_match(&l->filter, m);
}

static int handle_msg(struct natlog *l, const struct nlmsghdr *nlh)
{
	const struct natmap *known;
	struct natmap m;
	int r;

	r = natmap_parse_msg(nlh, false, &m);
	if (r == -ENOMSG)
		return 0;
	if (r < 0) {
		l->malformed++;
		return 0;
	}
	l->events++;
	if (m.nat == NATMAP_NAT_NONE) {
		l->not_nat++;
		return 0;
	}
	/* Update events often carry no protocol state: keep the last one. */
	known = m.has_ct_id ? natcache_get(l->cache, m.ct_id) : NULL;
	natmap_merge(&m, known);
	natcache_put(l->cache, &m);
	if (!wanted(l, &m)) {
		l->not_matched++;
		return 0;
	}
	r = sink_mapping(l->sink, &m);
	/* journald away for a moment: lose this entry, not the log */
	if (r == SINK_LOST) {
		l->journal_errors++;
		return 0;
	}
	/* a slow reader: this line is lost, and counted */
	if (r == -ENOBUFS) {
		l->out_dropped++;
		return 0;
	}
	if (r < 0)
		return r;
	l->printed++;
	return 1;
}

int natlog_drain(struct natlog *l)
{
	static struct nlsock_batch b;
	int lines = 0;

	for (int i = 0; i < NATLOG_DRAIN_BATCH; i += NLSOCK_BATCH) {
		int n = nlsock_recv_batch(l->sock, &b);

		if (n == -EAGAIN)
			break;
		if (n == -EINTR)
			continue;
		if (n == -ENOBUFS) {
			if (l->enobufs++ == 0)
				log_notice(
					"conntrack receive buffer overrun: NAT events lost (counted, see the end)");
			continue;
		}
		if (n < 0) {
			log_error_errno(n, "receiving conntrack events failed");
			return n;
		}
		for (unsigned int k = 0; k < b.n; k++) {
			const struct nlmsghdr *nlh;
			size_t off = 0;
			bool bad = b.len[k] < 0;

			while (!bad &&
			       (nlh = trace_msg_next(b.buf[k], (size_t)b.len[k], &off, &bad))) {
				int r = handle_msg(l, nlh);

				/* the output failed: the sink said so */
				if (r < 0)
					return r;
				lines += r;
			}
			if (bad)
				l->malformed++;
		}
	}
	return lines;
}

const struct natmap *natlog_lookup(struct natlog *l, uint32_t ct_id)
{
	const struct natmap *m = natcache_get(l->cache, ct_id);

	l->lookups++;
	if (m)
		l->found++;
	return m;
}

void natlog_report(const struct natlog *l)
{
	const struct natcache_stats *st = natcache_stats(l->cache);

	log_notice(
		"nat log: %llu conntrack events, %llu mappings printed, %llu not NATed, %llu NATed but not matched, %llu malformed, %llu receive overruns%s",
		(unsigned long long)l->events, (unsigned long long)l->printed,
		(unsigned long long)l->not_nat, (unsigned long long)l->not_matched,
		(unsigned long long)l->malformed, (unsigned long long)l->enobufs,
		l->out_dropped ? ", some dropped by a slow output (see below)" : "");
	if (l->out_dropped)
		log_notice(
			"nat log: %llu mappings dropped: the output buffer was full (a slow reader)",
			(unsigned long long)l->out_dropped);
	if (l->journal_errors)
		log_notice("nat log: %llu mappings not written: the journal did not take them",
			   (unsigned long long)l->journal_errors);
	if (l->lookups)
		log_notice("nat log: %llu of %llu timelines with a ct id found their mapping",
			   (unsigned long long)l->found, (unsigned long long)l->lookups);
	if (st->evicted)
		log_notice("limits hit: %llu mappings evicted from the cache (more than %u kept)",
			   (unsigned long long)st->evicted, NATCACHE_DEFAULT_SIZE);
}

/* ---- dumps ---- */

struct dump_ctx {
	void (*fn)(void *ctx, const struct natmap *m);
	void *ctx;
	uint64_t malformed;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;
	struct natmap m;

	/* validated before libnetfilter_conntrack sees it (natmap.c) */
	if (natmap_parse_msg(nlh, true, &m) < 0)
		d->malformed++;
	else if (m.nat != NATMAP_NAT_NONE)
		d->fn(d->ctx, &m);
	return MNL_CB_OK;
}

/*
 * Every NATed entry of the conntrack table (IPv4 and IPv6) to fn. The dump
 * is read with libmnl and each entry goes through natmap_parse_msg():
 * nfct_query()'s own parser would call exit(1) on a malformed attribute.
 */
int natlog_ctnetlink(uint16_t msg, uint16_t flags,
		     int (*cb)(const struct nlmsghdr *nlh, void *data), void *data)
{
	struct timeval tv = { .tv_sec = NATLOG_CT_WAIT_S };
	uint32_t seq = (uint32_t)time(NULL), portid;
	int r = 0, run = MNL_CB_OK;
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfh;
	char *buf;

	buf = malloc(NATLOG_CT_BUF);
	if (!buf)
		return -ENOMEM;
	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		r = -errno;
		goto out;
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | msg;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfh = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfh));
	nfh->nfgen_family = AF_UNSPEC;
	nfh->version = NFNETLINK_V0;
	nfh->res_id = 0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	/* until the kernel says done (a dump's end, a request's ack) */
	while (run == MNL_CB_OK) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, NATLOG_CT_BUF);

		if (n < 0) {
			r = -errno;
			break;
		}
		run = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		if (run == MNL_CB_ERROR)
			r = errno ? -errno : -EIO;
	}
out:
	if (nl)
		mnl_socket_close(nl);
	free(buf);
	return r;
}

static int dump_nat(void (*fn)(void *ctx, const struct natmap *m), void *ctx)
{
	struct dump_ctx d = { .fn = fn, .ctx = ctx };
	int r = natlog_ctnetlink(IPCTNL_MSG_CT_GET, NLM_F_DUMP, dump_cb, &d);

	if (d.malformed)
		log_notice("conntrack dump: %llu entries malformed or without tuples skipped",
			   (unsigned long long)d.malformed);
	return r;
}

static void seed_one(void *ctx, const struct natmap *m)
{
	natcache_put(ctx, m);
}

int natlog_seed(struct natlog *l)
{
	return dump_nat(seed_one, l->cache);
}

void natlog_filter_from_listing(const char *listing, struct natfilter *ret)
{
	if (natfilter_from_listing(listing, ret) < 0) {
		/* cannot happen after match_verify_listing(); widen, and say so */
		memset(ret, 0, sizeof(*ret));
		log_warning("cannot read --match back as a NAT filter: showing every NAT mapping");
		return;
	}
	if (ret->n_ignored)
		log_warning(
			"NAT log/table: --match conditions that a conntrack entry cannot be checked against are ignored: %s",
			ret->ignored);
	if (ret->n == 0)
		log_warning(
			"NAT log/table: nothing in --match applies to connections: showing every NAT mapping");
}

int natlog_start(struct natlog *l, const char *listing)
{
	int r;

	if (listing) {
		natlog_filter_from_listing(listing, &l->filter);
		l->filtered = true;
	}
	r = natlog_seed(l);
	if (r < 0)
		log_warning(
			"cannot read the conntrack table (%s): timelines of connections older than now show no mapping",
			strerror(-r));
	log_notice("logging %s NAT mappings (conntrack events)",
		   l->filtered ? "the --match" : "all");
	return 0;
}

void natlog_refilter(struct natlog *l, const char *listing)
{
	natlog_filter_from_listing(listing, &l->filter);
	l->filtered = true;
	log_notice("logging the NAT mappings of the new --match");
}

int natlog_filter_from_match(const struct options *o, struct natfilter *ret)
{
	struct tracetable_config cfg = {
		.family = o->family,
		.table = o->table,
		.hooks = o->hooks,
		.match = o->match,
		.rate = o->rate_none ? NULL : o->rate,
		.check_only = true,
	};
	struct tracetable *t = NULL;
	char err[1024], *listing = NULL;
	int r;

	r = tracetable_install(&cfg, &t, &listing, err, sizeof(err));
	if (r < 0) {
		free(listing); /* set if only a later step failed */
		log_error("%s", err);
		return r == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
	}
	natlog_filter_from_listing(listing, ret);
	free(listing);
	return EXIT_OK;
}

/* ---- --nat-table ---- */

struct table_ctx {
	const struct natfilter *filter;
	struct natmap *rows;
	size_t n, cap;
	uint64_t dropped;
	bool nomem;
};

static void table_one(void *ctx, const struct natmap *m)
{
	struct table_ctx *t = ctx;

	if (t->filter && !natfilter_match(t->filter, m))
		return;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct natmap *rows;

		if (cap > NATTABLE_MAX_ROWS)
			cap = NATTABLE_MAX_ROWS;
		rows = cap > t->cap ? realloc(t->rows, cap * sizeof(*rows)) : NULL;
		if (!rows) {
			if (cap <= t->cap)
				t->dropped++;
			else
				t->nomem = true;
			return;
		}
		t->rows = rows;
		t->cap = cap;
	}
	t->rows[t->n++] = *m;
}

int natlog_table_main(const struct options *o)
{
	struct natfilter *filter = NULL;
	struct table_ctx t = {};
	int r, status = EXIT_RUNTIME;

	if (o->match) {
		filter = malloc(sizeof(*filter));
		if (!filter) {
			log_error("out of memory");
			return EXIT_RUNTIME;
		}
		status = natlog_filter_from_match(o, filter);
		if (status != EXIT_OK)
			goto out;
		status = EXIT_RUNTIME;
		t.filter = filter;
	}
	signal(SIGPIPE, SIG_IGN);
	r = dump_nat(table_one, &t);
	if (r < 0) {
		log_error("cannot dump the conntrack table: %s%s", strerror(-r),
			  r == -EPERM ? " (needs CAP_NET_ADMIN: run as root)" : "");
		goto out;
	}
	if (t.nomem) {
		log_error("out of memory while reading the conntrack table");
		goto out;
	}
	r = sink_nat_table(o->output, t.rows, t.n);
	if (r < 0 || fflush(stdout) == EOF) {
		if (errno != EPIPE)
			log_error_errno(errno, "writing output failed");
		goto out;
	}
	if (t.dropped)
		log_notice("limits hit: %llu more mappings not shown (more than %u)",
			   (unsigned long long)t.dropped, NATTABLE_MAX_ROWS);
	status = EXIT_OK;
out:
	free(t.rows);
	free(filter);
	return status;
}
