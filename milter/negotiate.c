/* negotiate.c: the macro lists authgate-milter asks the MTA for (smfi_setsymlist). */
#include "negotiate.h"

#include <stdio.h>

int negotiate_macros(SMFICTX *ctx, int *stage)
{
	static const struct {
		int stage;
		const char *list;
	} symlists[] = {
	    {SMFIM_CONNECT, "{client_addr}"},
	    {SMFIM_ENVFROM, "{auth_authen} i"},
	    {SMFIM_ENVRCPT, "i"},
	    {SMFIM_EOM, "i"},
	};
	char list[64];
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(symlists) / sizeof(symlists[0]); i++) {
		/* smfi_setsymlist takes a char *: give it a copy, not the constant. */
		snprintf(list, sizeof(list), "%s", symlists[i].list);
		if (smfi_setsymlist(ctx, symlists[i].stage, list) != MI_SUCCESS) {
			*stage = symlists[i].stage;
			rc = -1; /* the other lists still count */
		}
	}
	return rc;
}
