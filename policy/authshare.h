/* authshare.h: Redis key names and members for the shared lockout state (shared_state), pure. */
#ifndef AG_AUTHSHARE_H
#define AG_AUTHSHARE_H

#include <stddef.h>

#include "net.h"

/*
 * Layout under a prefix P (shared_state_prefix, "authgate:" by default):
 *   P net:NETWORK   string, failures of the client network; TTL auth_fail_window
 *   P user:LOGIN    string, failures of the login;          TTL auth_fail_window
 *   P fam:LOGIN     sorted set, NETWORK scored by the last success (Unix seconds),
 *                   at most AG_SHARED_FAMILIAR_MAX members;   TTL auth_familiar_days
 * NETWORK is "192.0.2.1" for IPv4 and "2001:db8:1:2::/64" for IPv6 (the /64
 * counts as one, as in authlimit.c). LOGIN is the normalised login with
 * ASCII case folded (authlimit.c folds it too) and every byte outside
 * [a-z0-9._@-] written as %XX, so a key is printable and has one spelling.
 */
#define AG_SHARED_FAMILIAR_MAX 64u
/* Prefix (64) + "user:" + a login of AG_MAX_LOGIN (255) bytes at 3 each + NUL. */
#define AG_SHARED_KEY_MAX (64 + 8 + 3 * 256 + 1)
#define AG_SHARED_MEMBER_MAX 64

/* 0, or -1 when it does not fit or the input is missing (NULL or empty). */
int authshare_network(const struct ag_ip *ip, char *buf, size_t len);
int authshare_key_network(const char *prefix, const struct ag_ip *ip, char *buf, size_t len);
int authshare_key_user(const char *prefix, const char *user, char *buf, size_t len);
int authshare_key_familiar(const char *prefix, const char *user, char *buf, size_t len);

#endif
