# doc/ and etc/: man pages and what an admin installs next to the programs.
#
# Where things go: the config in $(sysconfdir)/authgate (the programs' compiled-in
# default, see Makefile.am); PAM and logrotate files where those tools read them,
# /etc/pam.d and /etc/logrotate.d whatever the prefix (configure --with-pamdir,
# --with-logrotatedir, --with-systemdsystemunitdir; or on the make command line).
# An admin configures with --prefix=/usr --sysconfdir=/etc --localstatedir=/var.

dist_man_MANS = \
	doc/authgate-proxy.8 \
	doc/authgate-milter.8 \
	doc/authgate-audit.1 \
	doc/authgate.conf.5

authgateconfdir = $(sysconfdir)/authgate

# The units name the installed programs and config file, so they are made from
# templates at build time (the autoconf manual's advice for installation dirs).
systemdsystemunit_DATA = etc/authgate-proxy.service etc/authgate-milter.service
CLEANFILES += $(systemdsystemunit_DATA)

ag_edit_unit = sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g'

etc/authgate-proxy.service: $(srcdir)/etc/authgate-proxy.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) etc && \
	$(ag_edit_unit) $(srcdir)/etc/authgate-proxy.service.in >$@.tmp && mv -f $@.tmp $@

etc/authgate-milter.service: $(srcdir)/etc/authgate-milter.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) etc && \
	$(ag_edit_unit) $(srcdir)/etc/authgate-milter.service.in >$@.tmp && mv -f $@.tmp $@

dist_logrotate_DATA = etc/logrotate.d/authgate

EXTRA_DIST += \
	doc/config-reference.md \
	doc/interface.md \
	etc/authgate-proxy.service.in \
	etc/authgate-milter.service.in \
	etc/authgate.conf \
	etc/pam.d/authgate

# The config file and the PAM service are the admin's once installed: never
# overwrite them, and uninstall removes them only while they are still the
# unedited samples (an edited file stays, like a Debian conffile).
install-data-local:
	$(MKDIR_P) '$(DESTDIR)$(authgateconfdir)' '$(DESTDIR)$(pamdir)'
	@if test -e '$(DESTDIR)$(authgateconfdir)/authgate.conf'; then \
		echo "keeping existing $(DESTDIR)$(authgateconfdir)/authgate.conf"; \
	else \
		echo " $(INSTALL_DATA) etc/authgate.conf '$(DESTDIR)$(authgateconfdir)/authgate.conf'"; \
		$(INSTALL_DATA) $(srcdir)/etc/authgate.conf '$(DESTDIR)$(authgateconfdir)/authgate.conf'; \
	fi
	@if test -e '$(DESTDIR)$(pamdir)/authgate'; then \
		echo "keeping existing $(DESTDIR)$(pamdir)/authgate"; \
	else \
		echo " $(INSTALL_DATA) etc/pam.d/authgate '$(DESTDIR)$(pamdir)/authgate'"; \
		$(INSTALL_DATA) $(srcdir)/etc/pam.d/authgate '$(DESTDIR)$(pamdir)/authgate'; \
	fi

uninstall-local:
	@f='$(DESTDIR)$(authgateconfdir)/authgate.conf'; \
	if test -e "$$f"; then \
		if cmp -s '$(srcdir)/etc/authgate.conf' "$$f"; then \
			echo " rm -f '$$f'"; rm -f "$$f"; \
		else echo "keeping edited $$f"; fi; \
	fi
	@f='$(DESTDIR)$(pamdir)/authgate'; \
	if test -e "$$f"; then \
		if cmp -s '$(srcdir)/etc/pam.d/authgate' "$$f"; then \
			echo " rm -f '$$f'"; rm -f "$$f"; \
		else echo "keeping edited $$f"; fi; \
	fi
	@rmdir '$(DESTDIR)$(authgateconfdir)' 2>/dev/null || :
