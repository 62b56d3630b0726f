#!/usr/bin/env bash
# `make install` and the man page it installs (docs/certops.1).
. "$(dirname "$0")/lib/testlib.sh"

LIBA="$BUILD/libcertops.a"

# make, on its own: not a sub-make of the `make check` that runs the tests.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory "$@"; }

# Runs `make install` from the source tree into $1 (a DESTDIR) on what is
# built already: -o keeps make from rebuilding the binary or the library.
make_install() { # DESTDIR [make args...]
	local dest=$1
	shift
	assert_exit 0 mk -C "$TOP" install \
		BUILD="$BUILD" DESTDIR="$dest" PREFIX=/usr -o "$CERTOPS" -o "$LIBA" "$@"
}

# The page as plain text, one line per paragraph, no hyphenation, no
# bold/underline sequences; warnings on stderr.
render() { # PAGE
	groff -man -Tutf8 -P-cbou -rHY=0 -rLL=300n -ww "$1"
}

test_install_puts_binary_library_and_man_page() {
	local dest=$TEST_TMP/root
	make_install "$dest"
	assert_file_mode "$dest/usr/bin/certops" 755
	assert_file_mode "$dest/usr/lib/libcertops.a" 644
	assert_file_mode "$dest/usr/share/man/man1/certops.1" 644
	cmp -s "$TOP/docs/certops.1" "$dest/usr/share/man/man1/certops.1" ||
		fail "the installed page is not docs/certops.1"
	# The installed binary is the built one, and it runs.
	cmp -s "$CERTOPS" "$dest/usr/bin/certops" || fail "the installed binary is not $CERTOPS"
	assert_exit 0 "$dest/usr/bin/certops" version
	assert_match "$OUT" '^certops [0-9]+\.[0-9]+\.[0-9]+'
}

test_install_fails_without_the_man_page() {
	# The same Makefile in a tree without docs/certops.1: make must stop
	# before installing anything, not skip the page.
	local tree=$TEST_TMP/tree dest=$TEST_TMP/root
	mkdir -p "$tree"
	cp "$TOP/Makefile" "$tree/Makefile"
	assert_exit 2 mk -C "$tree" install \
		BUILD="$BUILD" DESTDIR="$dest" PREFIX=/usr -o "$CERTOPS" -o "$LIBA"
	assert_contains "$ERR" "No rule to make target 'docs/certops.1', needed by 'install'"
	[ ! -e "$dest/usr/bin/certops" ] || fail "make install installed the binary without a man page"
}

test_man_page_renders_without_warnings() {
	local dest=$TEST_TMP/root page
	make_install "$dest"
	page=$dest/usr/share/man/man1/certops.1
	# groff -ww: every warning on; -z: no output, only the diagnostics.
	assert_exit 0 groff -man -Tutf8 -ww -z "$page"
	assert_eq "" "$ERR" "groff warnings"
	if command -v man >/dev/null; then
		MANWIDTH=80 assert_exit 0 man --warnings -l "$page"
		assert_eq "" "$ERR" "man -l warnings"
		assert_contains "$OUT" "certops - keep TLS certificates true to a declaration kept in Git"
	fi
	assert_exit 0 render "$page"
	assert_eq "" "$ERR" "groff warnings"
	local s
	for s in NAME SYNOPSIS DESCRIPTION COMMANDS "GLOBAL OPTIONS" ENVIRONMENT FILES \
		"EXIT STATUS" EXAMPLES "SEE ALSO"; do
		assert_match "$OUT" "^$s\$" "section $s"
	done
}

test_man_page_matches_the_binary() {
	local text version c o code v
	text=$(render "$TOP/docs/certops.1")
	# The version in the page's header is the binary's.
	version=$("$CERTOPS" version | sed -n '1s/^certops \([^ ]*\).*/\1/p')
	assert_contains "$(grep -m1 '^\.TH' "$TOP/docs/certops.1")" "\"certops $version\"" "the .TH line"
	# Every command, and every option each command's --help lists, is in it.
	for c in validate plan apply reconcile status version; do
		assert_match "$text" "^       $c( |\$)" "the COMMANDS entry of $c"
		for o in $("$CERTOPS" "$c" --help | grep -oE -- '^ +(-[a-z], )?--[a-z][a-z-]*' |
			grep -oE -- '--[a-z-]+'); do
			assert_contains "$text" "$o" "the man page (option $o of certops $c)"
		done
	done
	# Every exit code, and the environment the code reads.
	for code in 0 1 2 64 65 75; do
		assert_match "$text" "^       $code +[^ ]" "EXIT STATUS $code"
	done
	for v in CERTOPS_STATE CERTOPS_OFFLINE NO_COLOR XDG_STATE_HOME; do
		assert_match "$text" "^       $v" "ENVIRONMENT $v"
	done
}

run_tests "$@"
