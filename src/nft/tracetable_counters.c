/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The trace rules' counters: how many packets the trace selected. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include "tracetable.h"
#include "tracetable_int.h"

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
