/* filter.c: which records and messages a report looks at (--user, --client, --rcpt) and client
 * networks. */
#include <string.h>
#include <strings.h>

#include "cmd.h"

static bool match_user(const struct audit_opts *o, const char *user)
{
	return o->user == NULL || (user != NULL && strcasecmp(o->user, user) == 0);
}

static bool match_client(const struct audit_opts *o, const char *client_ip)
{
	struct ag_ip ip;
	const char *why;

	if (!o->has_client)
		return true;
	if (client_ip == NULL || net_parse_ip(client_ip, &ip, &why) < 0)
		return false;
	return net_cidr_match(&o->client, &ip);
}

/* "a@example.org" matches itself; "@example.org" every address in that domain. */
bool filter_rcpt_match(const char *want, const char *rcpt)
{
	if (want[0] == '@') {
		const char *at = strrchr(rcpt, '@');

		return at != NULL && strcasecmp(at, want) == 0;
	}
	return strcasecmp(want, rcpt) == 0;
}

static bool match_rcpts(const struct audit_opts *o, const char *const *rcpts, size_t n)
{
	size_t i;

	if (o->rcpt == NULL)
		return true;
	for (i = 0; rcpts != NULL && i < n; i++)
		if (filter_rcpt_match(o->rcpt, rcpts[i]))
			return true;
	return false;
}

bool filter_row(const struct audit_opts *o, const struct msg_row *row)
{
	return match_user(o, row->user) && match_client(o, row->client_ip) &&
	       match_rcpts(o, row->rcpts, row->nrcpts);
}

bool filter_record(const struct audit_opts *o, const struct audit_rec *r)
{
	return match_user(o, r->auth_user) && match_client(o, r->client_ip) &&
	       match_rcpts(o, r->rcpts, r->nrcpts);
}

void filter_client_network(const char *client_ip, char *buf, size_t len)
{
	char text[AG_IP_STRLEN];
	struct ag_ip ip;
	const char *why;
	bool v4;

	if (client_ip == NULL || net_parse_ip(client_ip, &ip, &why) < 0) {
		snprintf(buf, len, "unknown");
		return;
	}
	/* Abuse comes from an ISP's pool, not one address: /24 for IPv4, /64 for IPv6. */
	v4 = net_ip_is_v4(&ip);
	if (v4)
		ip.addr[15] = 0;
	else
		memset(ip.addr + 8, 0, 8);
	if (net_format_ip(&ip, text, sizeof(text)) < 0) {
		snprintf(buf, len, "unknown");
		return;
	}
	snprintf(buf, len, "%s/%d", text, v4 ? 24 : 64);
}
