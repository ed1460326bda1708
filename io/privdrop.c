/* privdrop.c: look up the configured user and become it, irrevocably. */
#include "io/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int privdrop_lookup(const char *user, struct privdrop_user *out, char *why, size_t whylen)
{
	struct passwd *pw;

	if (user == NULL || user[0] == '\0') {
		snprintf(why, whylen, "no user configured to run as");
		return -1;
	}
	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		snprintf(why, whylen, "user \"%s\" does not exist%s%s", user, errno ? ": " : "",
			 errno ? strerror(errno) : "");
		return -1;
	}
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	return 0;
}

int privdrop_become(const char *user, const struct privdrop_user *u, char *why, size_t whylen)
{
	if (setgroups(1, &u->gid) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0) {
		snprintf(why, whylen, "cannot become %s: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(why, whylen, "privileges could be regained after becoming %s", user);
		return -1;
	}
	return 0;
}
