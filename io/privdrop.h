/* privdrop.h: both daemons become their configured user for good, the same way. */
#ifndef AG_IO_PRIVDROP_H
#define AG_IO_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

/* The account to become, looked up while still root. */
struct privdrop_user {
	uid_t uid;
	gid_t gid;
};

/* 0 with the user's ids, or -1 with why (e.g. "user \"x\" does not exist"). */
int privdrop_lookup(const char *user, struct privdrop_user *out, char *why, size_t whylen);

/*
 * Only the user's own group is kept (no supplementary groups: Postfix's set_ugid and
 * OpenSMTPD do the same), then the uid; a setuid(0) that still works afterwards is a
 * failure. 0, or -1 with why.
 */
int privdrop_become(const char *user, const struct privdrop_user *u, char *why, size_t whylen);

#endif
