/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Why libnftables refused a batch, in words the user can act on: its error
 * text cut to the reasons, the kernel errors that are not about the match
 * mapped back to an errno, and nft's marks moved under the user's match.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "match.h"
#include "strbuf.h"
#include "tracetable.h"
#include "tracetable_int.h"

/*
 * libnftables prints "Error: <what>", then the offending command, then a
 * line of carets. Keep only the "<what>" lines, joined with "; ". (For
 * kernel errors in a buffer, 1.0.6 shows the buffer's first line as the
 * command, so that line would mislead anyway.)
 */
void tracetable_error_text(const char *buf, char *out, size_t outlen)
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
int tracetable_errno(const char *text)
{
	static const int kept[] = { EEXIST, EPERM, ENOMEM, ENOBUFS };
	size_t i;

	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (strstr(text, strerror(kept[i])))
			return -kept[i];
	return -EINVAL;
}

/*
 * nft's marks under the words of the match it refused with msg, in buf
 * (match_error_marker()); 0 when there are none to show. libnftables
 * 1.0.6 echoes the first line of a many-line batch above marks that belong
 * to the failing one, so the rule line is read again alone, in a dry run,
 * and its marks count only when that run names the same error.
 */
static size_t refused_marks(struct tracetable *t, const char *match, const char *rule,
			    const char *msg, char *buf, size_t len)
{
	char *cmd = NULL, what[512];
	size_t n = 0;

	if (asprintf(&cmd, "add rule %s %s " TRACETABLE_CHECK_CHAIN " %s\n", t->family, t->table,
		     rule) < 0)
		return 0;
	nft_ctx_set_dry_run(t->nft, true);
	if (tracetable_run(t, cmd, what, sizeof(what)) < 0 && what[0] && strstr(msg, what))
		n = match_error_marker(t->last_error, match, buf, len);
	nft_ctx_set_dry_run(t->nft, false);
	free(cmd);
	return n;
}

/* The check batch failed with msg: why, in err. The -errno. */
int tracetable_check_refused(struct tracetable *t, const char *match, const char *rule,
			     const char *msg, bool create, char *err, size_t errlen)
{
	int ret = tracetable_errno(msg);
	char marks[TRACETABLE_RULE_MAX + 64];

	if (create && ret == -EEXIST)
		strbuf_error(err, errlen, "table %s %s appeared while nattraced was starting: %s",
			     t->family, t->table, msg);
	else if (ret == -EINVAL && strstr(msg, "after terminal statement"))
		/* our statements follow the match, so nft saw them */
		strbuf_error(err, errlen,
			     "match refused: it ends in a verdict or terminal statement "
			     "(accept, drop, jump, goto, reject, queue, dnat, ...); "
			     "--match may only select packets (nft: %s)",
			     msg);
	else if (ret == -EINVAL && refused_marks(t, match, rule, msg, marks, sizeof(marks)))
		/* nft's marks, under the user's words rather than our batch line */
		strbuf_error(err, errlen, "match refused by nft: %s\n%s", msg, marks);
	else if (ret == -EINVAL)
		strbuf_error(err, errlen, "match refused by nft: %s", msg);
	else if (create)
		strbuf_error(err, errlen, "cannot create table %s %s: %s", t->family, t->table,
			     msg);
	else
		strbuf_error(err, errlen, "cannot check the new match: %s", msg);
	return ret;
}
