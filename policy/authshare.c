/* authshare.c: Redis key names and members for the shared lockout state (shared_state), pure. */
#include "authshare.h"

#include <stdio.h>
#include <string.h>

int authshare_network(const struct ag_ip *ip, char *buf, size_t len)
{
	struct ag_ip net;
	char text[AG_IP_STRLEN];
	int n;

	if (ip == NULL)
		return -1;
	net = *ip;
	if (!net_ip_is_v4(&net))
		memset(net.addr + 8, 0, 8);
	if (net_format_ip(&net, text, sizeof(text)) < 0)
		return -1;
	n = snprintf(buf, len, "%s%s", text, net_ip_is_v4(&net) ? "" : "/64");
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

int authshare_key_network(const char *prefix, const struct ag_ip *ip, char *buf, size_t len)
{
	char net[AG_SHARED_MEMBER_MAX];
	int n;

	if (authshare_network(ip, net, sizeof(net)) < 0)
		return -1;
	n = snprintf(buf, len, "%snet:%s", prefix, net);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

static int authshare_key_login(const char *prefix, const char *kind, const char *user, char *buf,
			       size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o, i;
	int n;

	if (user == NULL || user[0] == '\0')
		return -1;
	n = snprintf(buf, len, "%s%s:", prefix, kind);
	if (n < 0 || (size_t)n >= len)
		return -1;
	o = (size_t)n;
	for (i = 0; user[i] != '\0'; i++) {
		unsigned char c = (unsigned char)user[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '@' || c == '-') {
			if (o + 1 >= len)
				return -1;
			buf[o++] = (char)c;
		} else {
			if (o + 3 >= len)
				return -1;
			buf[o++] = '%';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	buf[o] = '\0';
	return 0;
}

int authshare_key_user(const char *prefix, const char *user, char *buf, size_t len)
{
	return authshare_key_login(prefix, "user", user, buf, len);
}

int authshare_key_familiar(const char *prefix, const char *user, char *buf, size_t len)
{
	return authshare_key_login(prefix, "fam", user, buf, len);
}
