/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_MATCH_H
#define NATTRACED_MATCH_H

#include <stddef.h>
#include <stdint.h>

/*
 * The user's match runs with CAP_NET_ADMIN and must only select packets.
 * Two checks, both pure: a textual one before libnftables sees the text
 * (nothing that could end the command or comment out ours), and a
 * structural one on what libnftables built from it.
 */

/* 0, or -EINVAL with err naming what was refused. */
/*
 * A rate as --rate takes it: N/second, N/minute, N/hour or N/day, N from
 * 1 to 2^32-1. 0 with the count and a static unit string, or -EINVAL.
 */
int match_parse_rate(const char *rate, unsigned long long *ret_n, const char **ret_unit);
int match_precheck(const char *match, char *err, size_t errlen);

/*
 * The rule installed in each trace chain:
 * "<match> limit rate <rate> counter meta nftrace set 1"
 * (no limit when rate is NULL). 0; -EINVAL if rate is not exactly
 * "N/second|minute|hour|day|week"; -ENOSPC if it does not fit.
 */
int match_rule_text(const char *match, const char *rate, char *buf, size_t len);

/*
 * json is libnftables' JSON listing of the unhooked check chain holding
 * the rule built by match_rule_text(). Accepts only exactly one rule made
 * of match expressions followed by exactly our own statements.
 * 0, or -EINVAL with err naming what was refused.
 */
int match_verify_listing(const char *json, const char *rate, char *err, size_t errlen);

/*
 * nft echoes a command it could not read and marks, on the line under it,
 * the words it could not take:
 *
 *   Error: syntax error, unexpected string
 *   add rule inet trace_debug check tcp dprt 22 limit rate 1/second ...
 *                                       ^^^^
 *
 * Put the marks under the user's match instead: "  MATCH\n  MARKS" in
 * buf (each line indented by two spaces, no trailing newline). Returns
 * the length written, or 0 (buf "") when nft's text marks nothing inside
 * the match: no mark at all, or only our own words (then the message
 * alone is the truth). Marks that run past the match are cut at its end.
 */
size_t match_error_marker(const char *nft_err, const char *match, char *buf, size_t len);

#endif
