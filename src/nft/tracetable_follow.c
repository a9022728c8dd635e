/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --follow in the trace table: a set of conntrack ids the kernel fills
 * from the trace rule's match, and chains that trace the packets of the
 * connections in it, both ways.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <nftables/libnftables.h>

#include "options.h"
#include "strbuf.h"
#include "tracetable.h"
#include "tracetable_int.h"

/* --follow traces a followed connection's packets where they first meet netfilter. */
#define FOLLOW_TRACE_HOOKS (1u << NF_INET_PRE_ROUTING | 1u << NF_INET_LOCAL_OUT)
/* A followed connection's packet bound, kept in the kernel (tracetable_follow_batch()). */
#define FOLLOW_PKT_LIMIT   "limit rate 1/week burst %u packets"

static const char *follow_chain_name(unsigned int hook, char *buf, size_t len)
{
	const char *kw = options_hook_keyword(hook);
	int n;

	if (!kw)
		return NULL;
	n = snprintf(buf, len, "trace_follow_%s", kw);
	return n < 0 || (size_t)n >= len ? NULL : buf;
}

/*
 * The follow chains' commands, appended to a batch: at the trace hooks a
 * new connection the match selects is added to the follow set (the
 * kernel does it, at once: the reply may follow within microseconds) and
 * traced; at prerouting and output, where every packet of a connection
 * first meets netfilter, packets of followed connections are traced, one
 * rule per direction. The chains (named trace_* so that their counters
 * count as selections) that exist are emptied first. match and rate were
 * checked by the caller: the trace rule holds the same text.
 *
 * The kernel bounds what a connection can trace, however fast its
 * packets come: its element carries a packet limit of --follow-packets
 * tokens that refill at one a week (none within --follow-timeout, 3600 s
 * at most). Adding the element takes the first token, and every lookup
 * that finds it one more (nft_lookup evaluates a found element's
 * stateful expressions), failing once none is left: measured on 6.18,
 * exactly --follow-packets packets traced out of a 5,000-packet flood. So each
 * packet must meet exactly one lookup: the direction is tested first, a
 * packet looped back through lo was traced at output already (its
 * nftrace mark stays), and the selecting rule's "ct id != @follow" takes
 * nothing (a negated lookup that finds the element stops before it).
 * Rejected: "ct packets" (conntrack accounting) would turn on
 * nf_conntrack_acct for the whole namespace, for good.
 */
int tracetable_follow_batch(struct tracetable *t, const char *match, const char *rate,
			    unsigned int hooks, char *batch, size_t len, size_t *used,
			    unsigned int *ret_hooks)
{
	unsigned int want = hooks | FOLLOW_TRACE_HOOKS;
	char chain[TRACETABLE_CHAIN_MAX], limit[64] = "";
	int r = 0;

	if (rate)
		snprintf(limit, sizeof(limit), " limit rate %s", rate);
	for (unsigned int hook = 0; hook < NF_INET_NUMHOOKS && r == 0; hook++) {
		bool had = t->follow_hooks & (1u << hook), wants = want & (1u << hook);
		const char *lo = hook == NF_INET_PRE_ROUTING ? "meta iiftype != loopback " : "";

		follow_chain_name(hook, chain, sizeof(chain));
		r = tracetable_batch_chain(t, batch, len, used, chain, hook,
					   TRACETABLE_FOLLOW_PRIORITY, had, wants);
		if (r == 0 && wants && (FOLLOW_TRACE_HOOKS & (1u << hook)))
			r = tracetable_append(
				batch, len, used,
				"add rule %s %s %s %sct direction original ct id @" TRACETABLE_FOLLOW_SET
				" counter meta nftrace set 1\n"
				"add rule %s %s %s %sct direction reply ct id @" TRACETABLE_FOLLOW_SET
				" counter meta nftrace set 1\n",
				t->family, t->table, chain, lo, t->family, t->table, chain, lo);
		if (r == 0 && wants && (hooks & (1u << hook)))
			r = tracetable_append(
				batch, len, used,
				"add rule %s %s %s %s ct state new ct direction original "
				"ct id != @" TRACETABLE_FOLLOW_SET "%s add @" TRACETABLE_FOLLOW_SET
				" { ct id timeout %ums " FOLLOW_PKT_LIMIT
				" } counter meta nftrace set 1\n",
				t->family, t->table, chain, match, limit, t->follow_timeout_ms,
				t->follow_packets);
	}
	*ret_hooks = want;
	return r;
}

/* Which follow rule each handle is: from the chains' listing with handles. */
void tracetable_follow_handles(struct tracetable *t)
{
	char chain[TRACETABLE_CHAIN_MAX], cmd[TRACETABLE_NAME_MAX + 96];
	unsigned int flags = nft_ctx_output_get_flags(t->nft);

	t->n_follow = 0;
	nft_ctx_output_set_flags(t->nft, flags | NFT_CTX_OUTPUT_HANDLE);
	for (unsigned int hook = 0; hook < NF_INET_NUMHOOKS; hook++) {
		const char *out, *line, *end;

		if (!(t->follow_hooks & (1u << hook)))
			continue;
		follow_chain_name(hook, chain, sizeof(chain));
		snprintf(cmd, sizeof(cmd), "list chain %s %s %s", t->family, t->table, chain);
		if (nft_run_cmd_from_buffer(t->nft, cmd)) {
			nft_ctx_get_error_buffer(t->nft);
			nft_ctx_get_output_buffer(t->nft);
			continue;
		}
		nft_ctx_get_error_buffer(t->nft);
		out = nft_ctx_get_output_buffer(t->nft);
		for (line = out; line && *line; line = end ? end + 1 : NULL) {
			const char *h;
			uint8_t kind;
			size_t n;

			end = strchr(line, '\n');
			n = end ? (size_t)(end - line) : strlen(line);
			h = memmem(line, n, " # handle ", 10);
			/* rules only: every one of ours ends in the nftrace statement */
			if (!h || !memmem(line, n, "meta nftrace set 1", 18) ||
			    t->n_follow >= TRACETABLE_FOLLOW_HANDLES)
				continue;
			/* our statement first: the match is the user's text */
			if (memmem(line, n, " add @" TRACETABLE_FOLLOW_SET " ",
				   sizeof(" add @" TRACETABLE_FOLLOW_SET " ") - 1))
				kind = TRACETABLE_RULE_FOLLOW_NEW;
			else if (memmem(line, n, "ct direction reply", 18))
				kind = TRACETABLE_RULE_FOLLOW_REPLY;
			else
				kind = TRACETABLE_RULE_FOLLOW_ORIGINAL;
			t->follow_handle[t->n_follow] = strtoull(h + 10, NULL, 10);
			t->follow_kind[t->n_follow++] = kind;
		}
	}
	nft_ctx_output_set_flags(t->nft, flags);
}

/* After the trace chains: the follow set and chains, one batch. */
int tracetable_follow_install(struct tracetable *t, const struct tracetable_config *cfg, char *err,
			      size_t errlen)
{
	char *batch, msg[512];
	size_t used = 0;
	int r;

	if (!cfg->follow_size || !cfg->follow_timeout_ms || !cfg->follow_packets) {
		strbuf_error(err, errlen, "--follow: no set size, time limit or packet bound");
		return -EINVAL;
	}
	batch = malloc(TRACETABLE_BATCH_MAX);
	if (!batch)
		return -ENOMEM;
	t->follow = true;
	t->follow_timeout_ms = cfg->follow_timeout_ms;
	t->follow_packets = cfg->follow_packets;
	r = tracetable_append(batch, TRACETABLE_BATCH_MAX, &used,
			      "add set %s %s " TRACETABLE_FOLLOW_SET
			      " { typeof ct id; flags timeout; size %u; }\n",
			      t->family, t->table, cfg->follow_size);
	if (r == 0)
		r = tracetable_follow_batch(t, cfg->match, cfg->rate, cfg->hooks, batch,
					    TRACETABLE_BATCH_MAX, &used, &t->follow_hooks);
	if (r < 0) {
		strbuf_error(err, errlen, "match refused: too long");
		r = -EINVAL;
	} else if (tracetable_run(t, batch, msg, sizeof(msg)) < 0) {
		r = tracetable_errno(msg);
		t->follow_hooks = 0;
		strbuf_error(err, errlen, "%scannot set up --follow: %s",
			     r == -EINVAL ? "match refused: " : "", msg);
	} else {
		tracetable_follow_handles(t);
	}
	free(batch);
	return r;
}

enum tracetable_rule_kind tracetable_rule_kind(const struct tracetable *t, uint64_t handle)
{
	for (unsigned int i = 0; t && i < t->n_follow; i++)
		if (t->follow_handle[i] == handle)
			return (enum tracetable_rule_kind)t->follow_kind[i];
	return TRACETABLE_RULE_OTHER;
}

int tracetable_follow_forget(struct tracetable *t, uint32_t ct_id)
{
	char cmd[TRACETABLE_NAME_MAX + 96], msg[256];

	if (!t || !t->follow)
		return -EINVAL;
	snprintf(cmd, sizeof(cmd), "delete element %s %s " TRACETABLE_FOLLOW_SET " { %u }",
		 t->family, t->table, ct_id);
	if (tracetable_run(t, cmd, msg, sizeof(msg)) < 0)
		return strstr(msg, strerror(ENOENT)) ? -ENOENT : tracetable_errno(msg);
	return 0;
}
