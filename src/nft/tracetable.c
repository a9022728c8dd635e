/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The trace table, through libnftables 1.0.6.
 *
 * The table is created with "flags owner": the kernel deletes it when the
 * netlink socket that created it closes, also on SIGKILL. libnftables keeps
 * one socket per nft_ctx for the context's whole life, so the context lives
 * exactly as long as struct tracetable.
 *
 * The user's match is first added to an unhooked chain, where it cannot see
 * a packet, and the rule libnftables built is checked (match.c) before the
 * same text is added to hooked chains.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <nftables/libnftables.h>

#include "match.h"
#include "options.h"
#include "tracetable.h"

/* Our own bound; the kernel allows 255 (NFT_TABLE_MAXNAMELEN - 1). */
#define TRACETABLE_NAME_MAX  OPTIONS_TABLE_NAME_MAX
/* "trace_" + the longest hook keyword ("postrouting") + NUL. */
#define TRACETABLE_CHAIN_MAX 32
/* match (MATCH 4096 max) + our statements + one command's framing. */
#define TRACETABLE_RULE_MAX  4352
#define TRACETABLE_CMD_MAX   (TRACETABLE_RULE_MAX + 256)
/*
 * Up to five hooks, each a chain and a rule command, and the cleanup; with
 * --follow as many again for the follow chains, and their fixed rules.
 */
#define TRACETABLE_BATCH_MAX (10 * (TRACETABLE_CMD_MAX + 256) + 4096)
/* --follow traces a followed connection's packets where they first meet netfilter. */
#define FOLLOW_TRACE_HOOKS   (1u << NF_INET_PRE_ROUTING | 1u << NF_INET_LOCAL_OUT)
/* A followed connection's packet bound, kept in the kernel (follow_batch()). */
#define FOLLOW_PKT_LIMIT     "limit rate 1/week burst %u packets"

struct tracetable {
	struct nft_ctx *nft;
	struct mnl_socket *counters; /* reads the trace rules' counters */
	uint32_t counters_seq;
	uint8_t nfproto;
	const char *family;
	char table[TRACETABLE_NAME_MAX + 1];
	unsigned int hooks; /* hooked trace chains, for tracetable_replace() */
	/* --follow */
	bool follow;
	unsigned int follow_hooks; /* hooked follow chains */
	unsigned int follow_timeout_ms;
	unsigned int follow_packets;
	uint64_t follow_handle[TRACETABLE_FOLLOW_HANDLES];
	uint8_t follow_kind[TRACETABLE_FOLLOW_HANDLES]; /* enum tracetable_rule_kind */
	unsigned int n_follow;
};

const char *tracetable_chain_name(unsigned int hook, char *buf, size_t len)
{
	const char *kw = options_hook_keyword(hook);
	int n;

	if (!kw || !buf)
		return NULL;
	n = snprintf(buf, len, "trace_%s", kw);
	if (n < 0 || (size_t)n >= len)
		return NULL;
	return buf;
}

/* The name is spliced into commands: an nft identifier, nothing more. */
static bool table_name_valid(const char *name)
{
	/* "table inet counter" does not parse: a keyword is no name */
	return name && options_table_name_ok(name) && !options_nft_keyword(name);
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * libnftables prints "Error: <what>", then the offending command, then a
 * line of carets. Keep only the "<what>" lines, joined with "; ". (For
 * kernel errors in a buffer, 1.0.6 shows the buffer's first line as the
 * command, so that line would mislead anyway.)
 */
static void nft_error_text(const char *buf, char *out, size_t outlen)
{
	const char *line, *end;
	char what[256];
	size_t used = 0;
	int n;

	if (!outlen)
		return;
	out[0] = '\0';
	for (line = buf; line && *line; line = end ? end + 1 : NULL) {
		end = strchr(line, '\n');
		if (strncmp(line, "Error: ", 7) != 0)
			continue;
		line += 7;
		snprintf(what, sizeof(what), "%.*s",
			 (int)(end ? (size_t)(end - line) : strlen(line)), line);
		/* One per failing command, often the same for each hook. */
		if (strstr(out, what))
			continue;
		n = snprintf(out + used, outlen - used, "%s%s", used ? "; " : "", what);
		if (n < 0 || (size_t)n >= outlen - used)
			return;
		used += (size_t)n;
	}
	if (used)
		return;
	/* No "Error:" line: the first non-empty one, if any. */
	while (buf && (*buf == '\n' || *buf == ' '))
		buf++;
	if (buf && *buf)
		snprintf(out, outlen, "%.*s", (int)strcspn(buf, "\n"), buf);
	else
		snprintf(out, outlen, "libnftables failed without a message");
}

/*
 * libnftables reports kernel errors only as strerror() text; map the few
 * that are not about the match itself back to an errno.
 */
static int nft_error_errno(const char *text)
{
	static const int kept[] = { EEXIST, EPERM, ENOMEM, ENOBUFS };
	size_t i;

	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (strstr(text, strerror(kept[i])))
			return -kept[i];
	return -EINVAL;
}

/*
 * Run one buffer (one atomic batch). 0, or -1 with libnftables' error text
 * in msg. Both buffers are drained so the next command starts clean.
 */
static int run(struct tracetable *t, const char *cmd, char *msg, size_t msglen)
{
	int rc;

	rc = nft_run_cmd_from_buffer(t->nft, cmd);
	if (rc)
		nft_error_text(nft_ctx_get_error_buffer(t->nft), msg, msglen);
	else
		nft_ctx_get_error_buffer(t->nft);
	nft_ctx_get_output_buffer(t->nft);
	return rc ? -1 : 0;
}

/*
 * libnftables calls exit() when it cannot open its netlink sockets
 * (netlink_init_error(): NETLINK_NETFILTER in nft_ctx_new(), NETLINK_ROUTE
 * for interface names in a match). Opening both first turns that into an
 * error we can return.
 */
static int netlink_usable(int protocol)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static void delete_table(struct tracetable *t)
{
	char cmd[TRACETABLE_NAME_MAX + 32], msg[128];

	snprintf(cmd, sizeof(cmd), "delete table %s %s", t->family, t->table);
	/* Gone already is fine: the socket close would remove it anyway. */
	run(t, cmd, msg, sizeof(msg));
}

/* Append to a batch; -ENOSPC when it does not fit. */
static int append(char *buf, size_t len, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *used)
		return -ENOSPC;
	*used += (size_t)n;
	return 0;
}

/* The batch lines every path writes, in one place each. */
static int add_base_chain(const struct tracetable *t, char *batch, size_t len, size_t *used,
			  const char *chain, unsigned int hook, int priority)
{
	return append(batch, len, used,
		      "add chain %s %s %s { type filter hook %s priority %d; policy accept; }\n",
		      t->family, t->table, chain, options_hook_keyword(hook), priority);
}

static int add_rule(const struct tracetable *t, char *batch, size_t len, size_t *used,
		    const char *chain, const char *rule)
{
	return append(batch, len, used, "add rule %s %s %s %s\n", t->family, t->table, chain, rule);
}

/* A chain holding a rule cannot be deleted: flush it first. */
static int remove_chain(const struct tracetable *t, char *batch, size_t len, size_t *used,
			const char *chain)
{
	return append(batch, len, used, "flush chain %s %s %s\ndelete chain %s %s %s\n", t->family,
		      t->table, chain, t->family, t->table, chain);
}

/* The trace rule's text for cfg's match and rate, or -EINVAL and why. */
static int trace_rule_text(const struct tracetable_config *cfg, char *rule, char *err,
			   size_t errlen)
{
	int r = match_rule_text(cfg->match, cfg->rate, rule, TRACETABLE_RULE_MAX);

	if (r == -ENOSPC) {
		set_err(err, errlen, "match refused: too long");
		return -EINVAL;
	}
	if (r < 0)
		set_err(err, errlen, "rate '%.32s' is not <n>/<second|minute|hour|day>",
			cfg->rate ? cfg->rate : "");
	return r;
}

/* Steps b-c: refuse an existing table and a textually hostile match. */
static int check_before_create(struct tracetable *t, const struct tracetable_config *cfg, char *err,
			       size_t errlen)
{
	char cmd[TRACETABLE_NAME_MAX + 32], msg[256];

	snprintf(cmd, sizeof(cmd), "list table %s %s", t->family, t->table);
	if (run(t, cmd, msg, sizeof(msg)) == 0) {
		set_err(err, errlen,
			"table %s %s already exists and is not owned by this process; remove it "
			"(nft delete table %s %s) or choose another name with --table",
			t->family, t->table, t->family, t->table);
		return -EEXIST;
	}
	if (!strstr(msg, strerror(ENOENT))) {
		int ret = nft_error_errno(msg);

		set_err(err, errlen, "cannot list table %s %s: %s", t->family, t->table, msg);
		return ret == -EINVAL ? -EIO : ret;
	}
	return match_precheck(cfg->match, err, errlen);
}

/* Step d: table, unhooked check chain and the rule, in one batch. */
static int create_check_chain(struct tracetable *t, const char *rule, char *err, size_t errlen)
{
	char *batch, msg[512];
	size_t used = 0;
	int ret;

	batch = malloc(TRACETABLE_CMD_MAX + 512);
	if (!batch)
		return -ENOMEM;
	/* nft 1.0.6 wants ';' or a newline before a closing '}'. */
	ret = append(batch, TRACETABLE_CMD_MAX + 512, &used,
		     "create table %s %s { flags owner; }\n"
		     "add chain %s %s " TRACETABLE_CHECK_CHAIN "\n"
		     "add rule %s %s " TRACETABLE_CHECK_CHAIN " %s\n",
		     t->family, t->table, t->family, t->table, t->family, t->table, rule);
	if (ret < 0) {
		set_err(err, errlen, "match refused: too long");
		ret = -EINVAL;
		goto out;
	}
	if (run(t, batch, msg, sizeof(msg)) < 0) {
		ret = nft_error_errno(msg);
		if (ret == -EEXIST)
			set_err(err, errlen,
				"table %s %s appeared while nattraced was starting: %s", t->family,
				t->table, msg);
		else if (ret == -EINVAL && strstr(msg, "after terminal statement"))
			/* our statements follow the match, so nft saw them */
			set_err(err, errlen,
				"match refused: it ends in a verdict or terminal statement "
				"(accept, drop, jump, goto, reject, queue, dnat, ...); "
				"--match may only select packets (nft: %s)",
				msg);
		else if (ret == -EINVAL)
			set_err(err, errlen, "match refused by nft: %s", msg);
		else
			set_err(err, errlen, "cannot create table %s %s: %s", t->family, t->table,
				msg);
	}
out:
	free(batch);
	return ret;
}

/* Step e: what libnftables built must be matches plus our statements. */
static int verify_check_chain(struct tracetable *t, const char *rate, char **ret_listing, char *err,
			      size_t errlen)
{
	char cmd[TRACETABLE_NAME_MAX + 64], msg[256];
	unsigned int flags;
	char *listing = NULL;
	int ret;

	snprintf(cmd, sizeof(cmd), "list chain %s %s " TRACETABLE_CHECK_CHAIN, t->family, t->table);
	flags = nft_ctx_output_get_flags(t->nft);
	nft_ctx_output_set_flags(t->nft, flags | NFT_CTX_OUTPUT_JSON);
	ret = nft_run_cmd_from_buffer(t->nft, cmd);
	nft_ctx_output_set_flags(t->nft, flags);
	if (ret) {
		nft_error_text(nft_ctx_get_error_buffer(t->nft), msg, sizeof(msg));
		nft_ctx_get_output_buffer(t->nft);
		set_err(err, errlen, "cannot list the check chain: %s", msg);
		return -EIO;
	}
	nft_ctx_get_error_buffer(t->nft);
	/* The buffer is reused by the next command: copy it. */
	listing = strdup(nft_ctx_get_output_buffer(t->nft));
	if (!listing)
		return -ENOMEM;
	ret = match_verify_listing(listing, rate, err, errlen);
	if (ret == 0 && ret_listing) {
		*ret_listing = listing;
		listing = NULL;
	}
	free(listing);
	return ret;
}

/*
 * After step f failed: which hooks refuse the rule (e.g. "fib daddr oif" is
 * not allowed at output)? libnftables 1.0.6 cannot tell us (see above), so
 * try each hook alone. Adding and deleting the chain in one batch proves
 * nothing: the kernel validates at commit and skips deleted chains. So a
 * hook that takes the rule holds it, already verified, for one more batch.
 */
static void probe_hooks(struct tracetable *t, unsigned int hooks, const char *rule, char *out,
			size_t outlen)
{
	char chain[TRACETABLE_CHAIN_MAX], *batch, msg[128];
	size_t used = 0, batch_used;
	unsigned int hook;

	out[0] = '\0';
	batch = malloc(TRACETABLE_CMD_MAX + 512);
	if (!batch)
		return;
	for (hook = 0; hook < NF_INET_NUMHOOKS; hook++) {
		if (!(hooks & (1u << hook)))
			continue;
		tracetable_chain_name(hook, chain, sizeof(chain));
		batch_used = 0;
		if (add_base_chain(t, batch, TRACETABLE_CMD_MAX + 512, &batch_used, chain, hook,
				   TRACETABLE_PRIORITY) < 0 ||
		    add_rule(t, batch, TRACETABLE_CMD_MAX + 512, &batch_used, chain, rule) < 0)
			break;
		if (run(t, batch, msg, sizeof(msg)) == 0) {
			snprintf(batch, TRACETABLE_CMD_MAX + 512,
				 "flush chain %s %s %s\ndelete chain %s %s %s\n", t->family,
				 t->table, chain, t->family, t->table, chain);
			/* If this fails, deleting the table follows. */
			run(t, batch, msg, sizeof(msg));
			continue;
		}
		if (append(out, outlen, &used, "%s%s", used ? ", " : "",
			   options_hook_keyword(hook)) < 0)
			break;
	}
	free(batch);
}

/* Step f: hook the trace chains and drop the check chain, one batch. */
static int hook_trace_chains(struct tracetable *t, unsigned int hooks, const char *rule, char *err,
			     size_t errlen)
{
	char chain[TRACETABLE_CHAIN_MAX], *batch, msg[512], refused[64];
	size_t used = 0;
	unsigned int hook;
	int ret = 0;

	batch = malloc(TRACETABLE_BATCH_MAX);
	if (!batch)
		return -ENOMEM;
	for (hook = 0; hook < NF_INET_NUMHOOKS && ret == 0; hook++) {
		if (!(hooks & (1u << hook)))
			continue;
		tracetable_chain_name(hook, chain, sizeof(chain));
		ret = add_base_chain(t, batch, TRACETABLE_BATCH_MAX, &used, chain, hook,
				     TRACETABLE_PRIORITY);
		if (ret == 0)
			ret = add_rule(t, batch, TRACETABLE_BATCH_MAX, &used, chain, rule);
	}
	if (ret == 0)
		ret = remove_chain(t, batch, TRACETABLE_BATCH_MAX, &used, TRACETABLE_CHECK_CHAIN);
	if (ret < 0) {
		set_err(err, errlen, "match refused: too long");
		ret = -EINVAL;
		goto out;
	}
	if (run(t, batch, msg, sizeof(msg)) < 0) {
		/* The text passed the check chain: a hook does not take it. */
		ret = nft_error_errno(msg);
		if (ret == -EINVAL)
			probe_hooks(t, hooks, rule, refused, sizeof(refused));
		if (ret == -EINVAL && refused[0])
			set_err(err, errlen, "match refused at hook %s: %s", refused, msg);
		else
			set_err(err, errlen, "%scannot hook the trace chains: %s",
				ret == -EINVAL ? "match refused: " : "", msg);
	}
out:
	free(batch);
	return ret;
}

/* ---- --follow ---- */

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
static int follow_batch(struct tracetable *t, const char *match, const char *rate,
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
		if (had && !wants)
			r = remove_chain(t, batch, len, used, chain);
		else if (had)
			r = append(batch, len, used, "flush chain %s %s %s\n", t->family, t->table,
				   chain);
		if (r == 0 && !had && wants)
			r = add_base_chain(t, batch, len, used, chain, hook,
					   TRACETABLE_FOLLOW_PRIORITY);
		if (r == 0 && wants && (FOLLOW_TRACE_HOOKS & (1u << hook)))
			r = append(
				batch, len, used,
				"add rule %s %s %s %sct direction original ct id @" TRACETABLE_FOLLOW_SET
				" counter meta nftrace set 1\n"
				"add rule %s %s %s %sct direction reply ct id @" TRACETABLE_FOLLOW_SET
				" counter meta nftrace set 1\n",
				t->family, t->table, chain, lo, t->family, t->table, chain, lo);
		if (r == 0 && wants && (hooks & (1u << hook)))
			r = append(batch, len, used,
				   "add rule %s %s %s %s ct state new ct direction original "
				   "ct id != @" TRACETABLE_FOLLOW_SET
				   "%s add @" TRACETABLE_FOLLOW_SET
				   " { ct id timeout %ums " FOLLOW_PKT_LIMIT
				   " } counter meta nftrace set 1\n",
				   t->family, t->table, chain, match, limit, t->follow_timeout_ms,
				   t->follow_packets);
	}
	*ret_hooks = want;
	return r;
}

/* Which follow rule each handle is: from the chains' listing with handles. */
static void follow_list_handles(struct tracetable *t)
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
static int follow_install(struct tracetable *t, const struct tracetable_config *cfg, char *err,
			  size_t errlen)
{
	char *batch, msg[512];
	size_t used = 0;
	int r;

	if (!cfg->follow_size || !cfg->follow_timeout_ms || !cfg->follow_packets) {
		set_err(err, errlen, "--follow: no set size, time limit or packet bound");
		return -EINVAL;
	}
	batch = malloc(TRACETABLE_BATCH_MAX);
	if (!batch)
		return -ENOMEM;
	t->follow = true;
	t->follow_timeout_ms = cfg->follow_timeout_ms;
	t->follow_packets = cfg->follow_packets;
	r = append(batch, TRACETABLE_BATCH_MAX, &used,
		   "add set %s %s " TRACETABLE_FOLLOW_SET
		   " { typeof ct id; flags timeout; size %u; }\n",
		   t->family, t->table, cfg->follow_size);
	if (r == 0)
		r = follow_batch(t, cfg->match, cfg->rate, cfg->hooks, batch, TRACETABLE_BATCH_MAX,
				 &used, &t->follow_hooks);
	if (r < 0) {
		set_err(err, errlen, "match refused: too long");
		r = -EINVAL;
	} else if (run(t, batch, msg, sizeof(msg)) < 0) {
		r = nft_error_errno(msg);
		t->follow_hooks = 0;
		set_err(err, errlen, "%scannot set up --follow: %s",
			r == -EINVAL ? "match refused: " : "", msg);
	} else {
		follow_list_handles(t);
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
	if (run(t, cmd, msg, sizeof(msg)) < 0)
		return strstr(msg, strerror(ENOENT)) ? -ENOENT : nft_error_errno(msg);
	return 0;
}

int tracetable_install(const struct tracetable_config *cfg, struct tracetable **ret,
		       char **ret_listing, char *err, size_t errlen)
{
	struct tracetable *t = NULL;
	bool created = false;
	char *rule = NULL;
	int r;

	if (err && errlen)
		err[0] = '\0';
	if (!cfg || !ret) {
		r = -EINVAL;
		goto out;
	}
	if (!options_family_keyword(cfg->family)) {
		set_err(err, errlen, "family %u has no trace table", cfg->family);
		r = -EINVAL;
		goto out;
	}
	if (!table_name_valid(cfg->table)) {
		set_err(err, errlen,
			"table name must be a letter then up to %d letters, digits, '_' or '-'",
			TRACETABLE_NAME_MAX - 1);
		r = -EINVAL;
		goto out;
	}
	if (!cfg->hooks || cfg->hooks >= (1u << NF_INET_NUMHOOKS)) {
		set_err(err, errlen,
			"no hook, or a hook other than prerouting, input, forward, output, "
			"postrouting");
		r = -EINVAL;
		goto out;
	}

	r = netlink_usable(NETLINK_NETFILTER);
	if (r == 0)
		r = netlink_usable(NETLINK_ROUTE);
	if (r < 0) {
		set_err(err, errlen, "cannot open a netlink socket: %s", strerror(-r));
		goto out;
	}

	t = calloc(1, sizeof(*t));
	rule = malloc(TRACETABLE_RULE_MAX);
	if (!t || !rule) {
		r = -ENOMEM;
		goto out;
	}
	t->family = options_family_keyword(cfg->family);
	t->nfproto = cfg->family;
	snprintf(t->table, sizeof(t->table), "%s", cfg->table);

	/* Step a: our own context, silent: everything goes to buffers. */
	t->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!t->nft) {
		r = -ENOMEM;
		goto out;
	}
	if (nft_ctx_buffer_output(t->nft) || nft_ctx_buffer_error(t->nft)) {
		r = -ENOMEM;
		goto out;
	}
	/* "include" is refused by the precheck; no search path either. */
	nft_ctx_clear_include_paths(t->nft);

	r = check_before_create(t, cfg, err, errlen);
	if (r < 0)
		goto out;

	r = trace_rule_text(cfg, rule, err, errlen);
	if (r < 0)
		goto out;

	r = create_check_chain(t, rule, err, errlen);
	if (r < 0)
		goto out;
	created = true;

	r = verify_check_chain(t, cfg->rate, ret_listing, err, errlen);
	if (r < 0)
		goto out;
	if (cfg->check_only) {
		free(rule);
		tracetable_free(t);
		*ret = NULL;
		return 0;
	}

	r = hook_trace_chains(t, cfg->hooks, rule, err, errlen);
	t->hooks = cfg->hooks;
	if (r == 0 && cfg->follow)
		r = follow_install(t, cfg, err, errlen);
out:
	free(rule);
	if (r < 0) {
		if (err && errlen && !err[0])
			set_err(err, errlen, "cannot install the trace table: %s", strerror(-r));
		if (t && created)
			delete_table(t);
		if (t && t->nft)
			nft_ctx_free(t->nft);
		free(t);
		return r;
	}
	*ret = t;
	return 0;
}

struct tracetable *tracetable_free(struct tracetable *t)
{
	if (!t)
		return NULL;
	delete_table(t);
	nft_ctx_free(t->nft);
	if (t->counters)
		mnl_socket_close(t->counters);
	free(t);
	return NULL;
}

struct counter_sum {
	uint64_t packets;
	unsigned int found;
	int error;
};

/* One rule of the dump: add its counter if it is in one of our trace chains. */
static int counter_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct counter_sum *sum = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;
	const char *chain;

	if (!r) {
		sum->error = -ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0)
		goto out;
	chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
	/* Our chains are all "trace_<hook>"; the check chain never counts. */
	if (!chain || strncmp(chain, "trace_", 6) != 0)
		goto out;
	it = nftnl_expr_iter_create(r);
	if (!it)
		goto out;
	while ((e = nftnl_expr_iter_next(it))) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

		if (name && strcmp(name, "counter") == 0 &&
		    nftnl_expr_is_set(e, NFTNL_EXPR_CTR_PACKETS)) {
			sum->packets += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
			sum->found++;
		}
	}
	nftnl_expr_iter_destroy(it);
out:
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

/*
 * The counters are read with a rule dump through libnftnl, not through
 * libnftables: its 1.0.6 JSON listing of a table whose only flag is
 * "owner" reads freed memory (valgrind, every statistics report), and
 * its text listing would have to be parsed back. The dump asks the
 * kernel for the rules of our table only (NFTA_RULE_TABLE).
 */
int tracetable_selected(struct tracetable *t, uint64_t *ret_packets)
{
	char buf[MNL_SOCKET_BUFFER_SIZE > 16384 ? MNL_SOCKET_BUFFER_SIZE : 16384];
	struct counter_sum sum = {};
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;
	unsigned int portid;
	uint32_t seq;
	ssize_t n;
	int ret;

	if (!t)
		return -EINVAL;
	if (!t->counters) {
		t->counters = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
		if (!t->counters)
			return -errno;
		if (mnl_socket_bind(t->counters, 0, MNL_SOCKET_AUTOPID) < 0) {
			ret = -errno;
			mnl_socket_close(t->counters);
			t->counters = NULL;
			return ret;
		}
	}
	seq = ++t->counters_seq;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, t->nfproto, NLM_F_DUMP, seq);
	r = nftnl_rule_alloc();
	if (!r)
		return -ENOMEM;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, t->table);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	if (mnl_socket_sendto(t->counters, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	portid = mnl_socket_get_portid(t->counters);
	ret = MNL_CB_OK;
	while ((n = mnl_socket_recvfrom(t->counters, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, counter_rule_cb, &sum);
		if (ret <= MNL_CB_STOP)
			break;
	}
	if (n < 0)
		return -errno;
	if (ret == MNL_CB_ERROR)
		return sum.error ? sum.error : -errno;
	if (!sum.found)
		return -ENOENT;
	*ret_packets = sum.packets;
	return 0;
}

static void drop_check_chain(struct tracetable *t)
{
	char cmd[2 * TRACETABLE_NAME_MAX + 128], msg[128];
	size_t used = 0;

	if (remove_chain(t, cmd, sizeof(cmd), &used, TRACETABLE_CHECK_CHAIN) == 0)
		run(t, cmd, msg, sizeof(msg));
}

/*
 * Reload: the same checks as tracetable_install() on an unhooked check
 * chain, then one batch that empties the hooked chains and refills them
 * with the new rule, adds chains for new hooks and deletes those of hooks
 * no longer wanted. The kernel commits a batch atomically: packets meet
 * either the old rule or the new one, never none. If anything is refused,
 * the old chains and rules are untouched.
 */
int tracetable_replace(struct tracetable *t, const struct tracetable_config *cfg,
		       char **ret_listing, char *err, size_t errlen)
{
	char chain[TRACETABLE_CHAIN_MAX], *rule = NULL, *batch = NULL, msg[512];
	char *listing = NULL;
	bool checking = false;
	size_t used = 0;
	unsigned int hook, follow_hooks = 0;
	int r;

	if (ret_listing)
		*ret_listing = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!t || !cfg)
		return -EINVAL;
	if (cfg->family != 0 && strcmp(options_family_keyword(cfg->family) ?: "", t->family) != 0) {
		set_err(err, errlen, "the family of the trace table cannot change while it runs");
		return -EINVAL;
	}
	if (cfg->table && strcmp(cfg->table, t->table) != 0) {
		set_err(err, errlen, "the name of the trace table cannot change while it runs");
		return -EINVAL;
	}
	if (!cfg->hooks || cfg->hooks >= (1u << NF_INET_NUMHOOKS)) {
		set_err(err, errlen,
			"no hook, or a hook other than prerouting, input, forward, output, "
			"postrouting");
		return -EINVAL;
	}
	r = match_precheck(cfg->match, err, errlen);
	if (r < 0)
		return r;
	rule = malloc(TRACETABLE_RULE_MAX);
	batch = malloc(TRACETABLE_BATCH_MAX);
	if (!rule || !batch) {
		r = -ENOMEM;
		goto out;
	}
	r = trace_rule_text(cfg, rule, err, errlen);
	if (r < 0)
		goto out;

	r = append(batch, TRACETABLE_BATCH_MAX, &used,
		   "add chain %s %s " TRACETABLE_CHECK_CHAIN "\n"
		   "add rule %s %s " TRACETABLE_CHECK_CHAIN " %s\n",
		   t->family, t->table, t->family, t->table, rule);
	if (r < 0) {
		set_err(err, errlen, "match refused: too long");
		r = -EINVAL;
		goto out;
	}
	checking = true;
	if (run(t, batch, msg, sizeof(msg)) < 0) {
		r = nft_error_errno(msg);
		if (r == -EINVAL && strstr(msg, "after terminal statement"))
			set_err(err, errlen,
				"match refused: it ends in a verdict or terminal statement "
				"(accept, drop, jump, goto, reject, queue, dnat, ...); "
				"--match may only select packets (nft: %s)",
				msg);
		else if (r == -EINVAL)
			set_err(err, errlen, "match refused by nft: %s", msg);
		else
			set_err(err, errlen, "cannot check the new match: %s", msg);
		goto out;
	}
	r = verify_check_chain(t, cfg->rate, ret_listing ? &listing : NULL, err, errlen);
	if (r < 0)
		goto out;

	used = 0;
	for (hook = 0; hook < NF_INET_NUMHOOKS && r == 0; hook++) {
		bool had = t->hooks & (1u << hook), wants = cfg->hooks & (1u << hook);

		tracetable_chain_name(hook, chain, sizeof(chain));
		if (had && !wants)
			r = remove_chain(t, batch, TRACETABLE_BATCH_MAX, &used, chain);
		else if (had)
			r = append(batch, TRACETABLE_BATCH_MAX, &used, "flush chain %s %s %s\n",
				   t->family, t->table, chain);
		if (r == 0 && !had && wants)
			r = add_base_chain(t, batch, TRACETABLE_BATCH_MAX, &used, chain, hook,
					   TRACETABLE_PRIORITY);
		if (r == 0 && wants)
			r = add_rule(t, batch, TRACETABLE_BATCH_MAX, &used, chain, rule);
	}
	if (r == 0 && t->follow)
		r = follow_batch(t, cfg->match, cfg->rate, cfg->hooks, batch, TRACETABLE_BATCH_MAX,
				 &used, &follow_hooks);
	if (r == 0)
		r = remove_chain(t, batch, TRACETABLE_BATCH_MAX, &used, TRACETABLE_CHECK_CHAIN);
	if (r < 0) {
		set_err(err, errlen, "match refused: too long");
		r = -EINVAL;
		goto out;
	}
	if (run(t, batch, msg, sizeof(msg)) < 0) {
		/* It passed the check chain: a hook does not take it. */
		r = nft_error_errno(msg);
		set_err(err, errlen, "%scannot swap the trace rule: %s",
			r == -EINVAL ? "match refused at a hook: " : "", msg);
		goto out;
	}
	checking = false; /* the batch deleted it */
	t->hooks = cfg->hooks;
	if (t->follow) {
		t->follow_hooks = follow_hooks;
		follow_list_handles(t);
	}
	if (ret_listing) {
		*ret_listing = listing;
		listing = NULL;
	}
out:
	if (checking)
		drop_check_chain(t);
	free(listing);
	free(rule);
	free(batch);
	if (r < 0 && err && errlen && !err[0])
		set_err(err, errlen, "cannot swap the trace rule: %s", strerror(-r));
	return r;
}
