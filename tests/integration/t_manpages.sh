#!/usr/bin/env bash
# t_manpages: an admin reads the man pages: they render without warnings and say what the
# programs, the reply table (policy/reply.c) and the key table (doc/config-reference.md) say.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"

command -v man >/dev/null || skip_all "man (man-db) not installed"
command -v groff >/dev/null || skip_all "groff not installed"

doc=$AG_SRCDIR/doc
pages=(authgate-proxy.8 authgate-milter.8 authgate-audit.1 authgate.conf.5)
work=$(mktemp -d /tmp/ag-man-XXXXXX)
trap 'rm -rf "$work"' EXIT

# render PAGE: plain text, 80 columns, no bold/underline; groff's warnings to PAGE.err.
render() {
	local page=$1
	LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 MAN_KEEP_FORMATTING='' \
		man --warnings -E UTF-8 -l -Tutf8 "$doc/$page" 2>"$work/$page.err" |
		sed -e 's/.\x08//g' >"$work/$page.txt"
}

# section PAGE NAME: the rendered text of one top-level section (heading excluded).
section() {
	awk -v want="$2" '
		/^[A-Z]/ { on = ($0 == want); next }
		on { print }
	' "$work/$1.txt"
}

# has_tag PAGE SECTION TAG: TAG starts an indented tag line (".TP") in SECTION.
# (The escaping is a function of its own: inside "$(...)" the old inline sed lost a
# backslash, failed, and left the pattern matching every indented line.)
ere_escape() { printf '%s' "$1" | sed -e 's/[]\/$*.^|+?(){}[]/\\&/g'; }
has_tag() {
	section "$1" "$2" | grep -qE -- "^ {7}$(ere_escape "$3")( |,|$)"
}

for page in "${pages[@]}"; do
	if [ ! -f "$doc/$page" ]; then
		ok 1 "$page exists"
		continue
	fi
	# The exact check of the packaging issue: man --warnings, troff output only.
	LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
		man --warnings -E UTF-8 -l -Tutf8 -Z "$doc/$page" >/dev/null 2>"$work/$page.zerr" || true
	if [ -s "$work/$page.zerr" ]; then
		ok 1 "$page: man --warnings prints nothing"
		sed 's/^/#   /' "$work/$page.zerr" | head -n 10
	else
		ok 0 "$page: man --warnings prints nothing"
	fi
	render "$page"
	if [ -s "$work/$page.err" ] || [ "$(wc -l <"$work/$page.txt")" -lt 20 ]; then r=1; else r=0; fi
	ok $r "$page: renders to text without warnings"
	for s in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
		check "$page: has $s" -- grep -qx "$s" "$work/$page.txt"
	done
done

# The programs: every flag of INTERFACE.md, signals, exit status, files.
for page in authgate-proxy.8 authgate-milter.8; do
	for flag in "-c file" -f -t -n "-V, --version" "-h, --help"; do
		check "$page: OPTIONS documents $flag" -- has_tag "$page" OPTIONS "$flag"
	done
	for sig in SIGHUP SIGUSR1 SIGTERM; do
		check "$page: SIGNALS documents $sig" -- has_tag "$page" SIGNALS "$sig"
	done
	check "$page: SIGHUP keeps the old config on a bad file" -- eval \
		"section $page SIGNALS | tr -s ' \\n' '  ' | grep -qi 'old configuration stays'"
	check "$page: EXIT STATUS 0 and 1" -- eval \
		"has_tag $page 'EXIT STATUS' 0 && has_tag $page 'EXIT STATUS' 1"
	check "$page: FILES names the config" -- has_tag "$page" FILES /etc/authgate/authgate.conf
	check "$page: SEE ALSO authgate.conf(5)" -- eval \
		"section $page 'SEE ALSO' | grep -q 'authgate.conf(5)'"
done
check "authgate-milter.8: OPTIONS documents -T postfix|...|sendmail" -- \
	has_tag authgate-milter.8 OPTIONS "-T postfix|postfix-hash|postfix-regexp|sendmail"
check "authgate-milter.8: Postfix example sets smtpd_milters" -- \
	grep -q '^ *smtpd_milters = inet:127.0.0.1:8891$' "$work/authgate-milter.8.txt"
check "authgate-milter.8: milter_default_action = tempfail" -- \
	grep -q '^ *milter_default_action = tempfail$' "$work/authgate-milter.8.txt"
check "authgate-milter.8: transport_maps with the -T tables" -- \
	grep -q 'transport_maps = hash:/etc/postfix/authgate_lists,' "$work/authgate-milter.8.txt"
# The example names the tables authgate-milter -T postfix itself tells the admin to use.
milter=$AG_BUILDDIR/milter/authgate-milter
if [ -x "$milter" ]; then
	"$milter" -T postfix -c "$AG_SRCDIR/etc/authgate.conf" >"$work/routes" 2>&1 || true
	tables=$(grep -o '\(hash\|regexp\):/[^ ,]*' "$work/routes" | sort -u)
	bad=0
	[ -n "$tables" ] || bad=1
	for t in $tables; do
		grep -qF "$t" "$work/authgate-milter.8.txt" || { diag "not in authgate-milter.8: $t"; bad=1; }
	done
	ok $bad "authgate-milter.8: the tables -T postfix names (${tables//$'\n'/ })"
else
	diag "authgate-milter not built: -T output not compared"
fi
check "authgate-proxy.8: backend listener allows XCLIENT" -- \
	grep -q 'smtpd_authorized_xclient_hosts=127.0.0.1' "$work/authgate-proxy.8.txt"

for flag in "-c file" "-l log" --rotated "--since time" "--until time" "--user login" \
	"--client address" "--rcpt address" "--by key" --hourly "--format text|csv|json" \
	"--top n" --strict "-o file" -V -h; do
	check "authgate-audit.1: OPTIONS documents ${flag%% *}" -- \
		has_tag authgate-audit.1 OPTIONS "$flag"
done
check "authgate-audit.1: EXIT STATUS 0, 1 and 2 (--strict)" -- eval \
	"has_tag authgate-audit.1 'EXIT STATUS' 0 && has_tag authgate-audit.1 'EXIT STATUS' 1 &&
	 has_tag authgate-audit.1 'EXIT STATUS' 2"
for cmd in who unauth trend html; do
	check "authgate-audit.1: command $cmd" -- has_tag authgate-audit.1 DESCRIPTION "$cmd"
done

# Replies: every code of INTERFACE.md's table is in the page, and any text given for a
# code is exactly the one policy/reply.c sends.
tr '\n\t' '  ' <"$AG_SRCDIR/policy/reply.c" |
	grep -o '{ [0-9]\{3\}, "[0-9.]*", *"[^"]*"' |
	sed 's/^{ \([0-9]*\), "\([0-9.]*\)", *"\(.*\)"$/\1 \2 \3/' >"$work/replies"
check "policy/reply.c parsed (at least 15 replies)" -- test "$(wc -l <"$work/replies")" -ge 15
check_replies() { # PAGE CODE...
	local page=$1 code line text bad=0
	shift
	for code in "$@"; do
		# The tag line, and its wrapped rest when the text is wider than the page (a
		# line at the tag's indent that is not another code); justification spaces squeezed,
		# in the code too ("553  5.6.7": groff spreads a justified line's spaces from the
		# left or the right on alternate lines, so any text above may move them).
		line=$(section "$page" "SMTP REPLIES" | awk -v c="$code" '
			found && /^       [^ 0-9]/ { print; exit }
			found { exit }
			{ l = substr($0, 8); gsub(/ +/, " ", l) }
			substr($0, 1, 7) == "       " && index(l, c) == 1 && (length(l) == length(c) || substr(l, 1 + length(c), 1) == " ") { print; found = 1 }' |
			tr '\n' ' ' | tr -s ' ' | sed -e 's/^ //' -e 's/ $//') || true
		if [ -z "$line" ]; then
			diag "$page: no reply $code"
			bad=1
			continue
		fi
		text=${line#"$code"}
		text=${text# }
		[ -n "$text" ] || continue
		# One code can carry several texts (530 5.7.0): the page's must be one of them.
		if ! grep -qxF "$code $text" "$work/replies"; then
			diag "$page: $code says \"$text\", not a text policy/reply.c has for it"
			bad=1
		fi
	done
	return $bad
}
if check_replies authgate-proxy.8 "538 5.7.11" "530 5.7.0" "535 5.7.8" "454 4.7.0" "421 4.7.0" \
	"504 5.5.4" "501 5.5.2" "500 5.5.6" "553 5.7.1" "451 4.4.1" "500 5.5.2" "552 5.3.4" \
	"451 4.7.0" "554 5.6.0" "553 5.6.7"; then
	r=0
else r=1; fi
ok $r "authgate-proxy.8: every proxy reply, with reply.c's text"
if check_replies authgate-milter.8 "530 5.7.0" "550 5.7.1" "553 5.7.1"; then r=0; else r=1; fi
ok $r "authgate-milter.8: every milter reply, with reply.c's text"

# authgate.conf(5) against doc/config-reference.md: the same keys in the same sections,
# and the same defaults. Key blocks are read from the roff source (".TP" then ".B key").
ref=$doc/config-reference.md
if [ -f "$ref" ]; then
	# shellcheck disable=SC2016 # the backquotes are Markdown's, not the shell's
	sed -n 's/^| *\([a-z]*\) *| *`\([a-z_]*\)` *| *\([^|]*\)|.*|$/\1 \2 \3/p' "$ref" |
		sed 's/ *$//' >"$work/refkeys"
	check "config-reference.md parsed (at least 30 keys)" -- \
		test "$(wc -l <"$work/refkeys")" -ge 30
	# key blocks: "section key<TAB>normalised text" from the man source.
	awk '
		/^\.SH SECTION \[/ { flush(); sec = $0; sub(/^\.SH SECTION \[/, "", sec); sub(/\].*/, "", sec); next }
		/^\.SH / { flush(); sec = ""; next }
		/^\.TP/ { flush(); tp = 1; next }
		tp && /^\.B [a-z_]+$/ && sec != "" { key = $2; text = ""; tp = 0; next }
		{ tp = 0 }
		key != "" {
			l = $0
			sub(/^\.[A-Z]+ ?/, "", l)
			gsub(/\\-/, "-", l); gsub(/\\:/, "", l); gsub(/\\f[RPBI]/, "", l); gsub(/"/, "", l)
			text = text " " l
		}
		function flush() { if (key != "") print sec " " key "\t" text; key = "" }
		END { flush() }
	' "$doc/authgate.conf.5" >"$work/mankeys"
	missing=0 wrongdef=0
	while read -r sec key def; do
		block=$(awk -F '\t' -v k="$sec $key" '$1 == k { print $2 }' "$work/mankeys")
		if [ -z "$block" ]; then
			diag "authgate.conf.5: no [$sec] $key"
			missing=1
			continue
		fi
		block=$(tr -s ' ' <<<"$block")
		case $def in
		'*required*') want='Required.' ;;
		'(none)') want='Default: none' ;;
		'(empty)') want='Default: empty' ;;
		*) want="Default: ${def//\`/}" ;;
		esac
		case $block in
		*"$want"*) ;;
		*"Required when"*) [ "$def" = "(none)" ] || { diag "[$sec] $key: want \"$want\""; wrongdef=1; } ;;
		*)
			diag "authgate.conf.5 [$sec] $key: want \"$want\""
			wrongdef=1
			;;
		esac
	done <"$work/refkeys"
	ok $missing "authgate.conf.5: every key of config-reference.md, in its section"
	ok $wrongdef "authgate.conf.5: every default as config-reference.md says"
	extra=0
	while IFS=$'\t' read -r seckey _; do
		grep -qx "$seckey .*" "$work/refkeys" || { diag "authgate.conf.5: [${seckey% *}] ${seckey#* } not in config-reference.md"; extra=1; }
	done <"$work/mankeys"
	ok $extra "authgate.conf.5: no key config-reference.md does not know"

	# The sample etc/authgate.conf: every key it sets or shows (";key = ...") is real.
	bad=0 n=0
	while read -r sec key; do
		n=$((n + 1))
		grep -q "^$sec $key " "$work/refkeys" || { diag "etc/authgate.conf: [$sec] $key unknown"; bad=1; }
	done < <(awk '
		/^\[[a-z]+\]/ { sec = $0; gsub(/[][]/, "", sec); next }
		/^;?[a-z_]+ *=/ { k = $0; sub(/^;/, "", k); sub(/ *=.*/, "", k); print sec, k }
	' "$AG_SRCDIR/etc/authgate.conf")
	ok $bad "etc/authgate.conf: all $n keys exist in their sections"
	check "etc/authgate.conf: shows every key" -- test "$n" -eq "$(wc -l <"$work/refkeys")"
else
	diag "doc/config-reference.md missing: key table checks not run"
fi

tap_done
