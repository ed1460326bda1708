/* authcache.h: recently verified credentials, kept as keyed HMACs in memory, bounded and LRU. */
#ifndef AG_AUTHCACHE_H
#define AG_AUTHCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTHCACHE_MAC_LEN 32   /* HMAC-SHA-256 */
#define AUTHCACHE_MAX_USER 256 /* longer names are never cached (AUTH_MAX_USER) */

/*
 * Saves a PAM round trip for clients that log in once per message. Holds,
 * per user, HMAC-SHA-256(key, user, password) and when PAM said yes; the key
 * is random per cache (RAND_bytes), so nothing here survives the process or
 * lets anyone test passwords without it, and a password never sits in it.
 *
 * Rules for the caller (issue 7):
 *	hit  = authcache_check() true: accept without PAM;
 *	miss = ask PAM; on yes authcache_store(), on no authcache_forget().
 * A wrong password (a typo, or a new password after a change) is a miss and
 * goes to PAM. The old password of a changed account keeps working from the
 * cache for at most ttl seconds after PAM last accepted it: keep ttl short.
 *
 * Not thread-safe: one cache per event loop. Every call is O(1).
 */
struct authcache;

/* size entries at most (>= 1), ttl seconds (0: disabled, every check misses). NULL on failure. */
struct authcache *authcache_new(size_t size, unsigned ttl);
void authcache_free(struct authcache *c);

/* true if PAM accepted exactly this user and password less than ttl seconds before now. */
bool authcache_check(struct authcache *c, const char *user, const char *password, int64_t now);
/* After PAM said yes. 0 stored (or cache disabled, or name too long to cache), -1 on failure. */
int authcache_store(struct authcache *c, const char *user, const char *password, int64_t now);
/* After PAM said no: the user's entry goes. */
void authcache_forget(struct authcache *c, const char *user);

/* Entries held now (tests, statistics). */
size_t authcache_count(const struct authcache *c);
/* The MAC this cache computes for user and password; 0 or -1. Exposed for tests. */
int authcache_mac(const struct authcache *c, const char *user, const char *password,
		  uint8_t mac[AUTHCACHE_MAC_LEN]);

#endif
