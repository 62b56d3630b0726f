#!/usr/bin/env bash
# scripts/lint.sh [CHECK...]: the project's static checks (`make lint`).
#
#   banned      no sprintf, vsprintf, strcpy, strcat, strtok, atoi, atol or
#               gets in C code (calls only: comments and strings do not count)
#   cmd         cmd/ includes public headers only (nothing *internal*.h, no
#               internal.h, nothing from tests/)
#   headers     every public header under lib/ compiles on its own (and twice:
#               its include guard works)
#   statedir    nothing outside lib/state opens a file under the state
#               directory (lib/state is its only reader and writer)
#   werror      every C compile of the Makefile has -Werror
#
# With no CHECK, runs them all.  Every finding is one line on stdout,
# "lint: FILE:LINE: what" (LINE 0 when it is about the whole file); the exit
# status is 1 when there was any finding, 2 on a usage error.  clang-format
# is not part of lint (see .clang-format and docs/hacking.md).
#
# Environment (the Makefile passes its own): CC, LINT_CFLAGS (the flags a
# header is compiled with), MAKE.
set -uo pipefail

cd "$(dirname "$0")/.."
CC=${CC:-cc}
MAKE=${MAKE:-make}
PKGS="libgit2 openssl libcurl yaml-0.1 jansson"
if [ -z "${LINT_CFLAGS:-}" ]; then
	# shellcheck disable=SC2086
	LINT_CFLAGS="-std=gnu11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wvla -D_GNU_SOURCE -pthread -Ilib $(pkg-config --cflags $PKGS)"
fi

# The C sources every check looks at.
c_files() { # DIR...
	local d
	for d in "$@"; do
		[ -d "$d" ] && find "$d" -type f \( -name '*.c' -o -name '*.h' \)
	done | LC_ALL=C sort
}

# Prints FILE with comments, string and character literals blanked out
# (newlines kept, so line numbers stay right).
strip_c() {
	perl -0777 -pe '
		s{(/\*.*?\*/)|(//[^\n]*)|("(?:\\.|[^"\\\n])*")|('"'"'(?:\\.|[^'"'"'\\\n])*'"'"')}{
			my $m = $&; $m =~ s/[^\n]/ /g; $m
		}gse' "$1"
}

# --- banned calls ---------------------------------------------------------

BANNED="sprintf vsprintf strcpy strcat strtok atoi atol gets"
BANNED_DIRS="lib cmd tests bench"

check_banned() {
	local f re
	re=$(echo "$BANNED" | tr ' ' '|')
	while IFS= read -r f; do
		# A call or a function pointer taken: the name as a word, not a
		# member (->gets, .gets), not part of a longer name (snprintf).
		strip_c "$f" | perl -ne '
			while (/(?<![\w.>])('"$re"')\s*\(/g) {
				print "$.:$1\n";
			}' | while IFS=: read -r line name; do
			case $name in
			sprintf | vsprintf) hint="use snprintf or util_buf_printf" ;;
			strcpy | strcat) hint="use util_buf, memcpy with a length, or snprintf" ;;
			strtok) hint="use strtok_r, strsep or a loop over strchr" ;;
			atoi | atol) hint="use strtol/strtoul with an end pointer and errno" ;;
			gets) hint="use fgets or getline" ;;
			esac
			echo "$f:$line: banned call $name(): $hint"
		done
	done < <(c_files $BANNED_DIRS) | while IFS= read -r l; do
		echo "lint: $l"
	done
}

# --- cmd/ includes public headers only ------------------------------------

# Whether lib/X is a public header: under lib/, not internal.
is_public_header() {
	case $1 in
	*internal*.h) return 1 ;;
	esac
	[ -f "lib/$1" ]
}

check_cmd() {
	local f line inc n
	while IFS= read -r f; do
		n=0
		while IFS= read -r line; do
			n=$((n + 1))
			case $line in
			*'#'*include*'"'*) ;;
			*) continue ;;
			esac
			inc=$(printf '%s\n' "$line" | sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p')
			[ -n "$inc" ] || continue
			case $inc in
			*internal*.h)
				echo "lint: $f:$n: cmd/ includes an internal header \"$inc\""
				continue ;;
			tests/* | *../*)
				echo "lint: $f:$n: cmd/ includes \"$inc\" from outside lib/ and cmd/"
				continue ;;
			esac
			[ -f "$(dirname "$f")/$inc" ] && continue
			is_public_header "$inc" && continue
			echo "lint: $f:$n: cmd/ includes \"$inc\", which is not a public header of lib/"
		done <"$f"
	done < <(c_files cmd)
}

# --- every public header compiles alone -----------------------------------

public_headers() {
	find lib -mindepth 2 -maxdepth 2 -name '*.h' ! -name '*internal*.h' | LC_ALL=C sort
}

check_headers() {
	local h rel out tmp
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/certops-lint.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" RETURN
	while IFS= read -r h; do
		rel=${h#lib/}
		printf '#include "%s"\n#include "%s"\n' "$rel" "$rel" >"$tmp/one.c"
		# shellcheck disable=SC2086
		if ! out=$($CC $LINT_CFLAGS -fsyntax-only "$tmp/one.c" 2>&1); then
			echo "lint: $h:0: does not compile on its own:"
			printf '%s\n' "$out" | sed "s|$tmp/one.c|(a file with only #include \"$rel\")|; s/^/lint:     /" | head -n 8
		fi
	done < <(public_headers)
}

# --- nothing outside lib/state opens a file under the state directory ------

# Files outside lib/state allowed to do it anyway (path per line).  Keep it
# EMPTY: a file that needs a state file asks lib/state for a typed record.
STATEDIR_ALLOW=""

# A heuristic, deliberately simple: outside lib/state, a line that calls
# state_path() (the directory of an open store), or a line that joins, formats
# or opens a path (util_fs_*, util_buf_printf, *printf, open, fopen, mkdir,
# ...) with an argument named like the state directory (state_dir,
# state_path, statedir, ...).
statedir_offenders() {
	local f
	while IFS= read -r f; do
		case $f in lib/state/*) continue ;; esac
		case "
$STATEDIR_ALLOW
" in *"
$f
"*) continue ;; esac
		strip_c "$f" | perl -ne '
			if (/(?<![\w.>])state_path\s*\(/) {
				print "$.:calls state_path(): only lib/state opens files under the state directory\n";
			} elsif (/(?<![\w])(util_fs_\w+|util_buf_v?printf|v?snprintf|fopen|open|openat|mkdir|opendir|stat|lstat|access|unlink|rename)\s*\(.*\bstate_?(dir|path)\b/i) {
				print "$.:$1() on a path under the state directory: only lib/state opens files there\n";
			}' | while IFS=: read -r line what; do
			echo "$f:$line: $what"
		done
	done < <(c_files lib cmd)
}

check_statedir() {
	statedir_offenders | while IFS= read -r l; do echo "lint: $l"; done
}

# --- -Werror everywhere ------------------------------------------------------

check_werror() {
	local out n=0 line src
	# What make would run for everything the tests build, from scratch,
	# without running it.
	if ! out=$($MAKE --no-print-directory -n -B BUILD=build/lint-dry-run all check-unit check-integration 2>&1); then
		echo "lint: Makefile:0: make -n failed:"
		printf '%s\n' "$out" | sed 's/^/lint:     /' | head -n 8
		return
	fi
	while IFS= read -r line; do
		case $line in
		*" -c "*.c* | *tests/unit/*.c" "* | *tests/tools/*.c" "*) ;;
		*) continue ;;
		esac
		n=$((n + 1))
		case " $line " in
		*" -Werror "*) ;;
		*)
			src=$(printf '%s\n' "$line" | tr ' ' '\n' | grep -m1 '\.c$')
			echo "lint: ${src:-Makefile}:0: compiled without -Werror by the Makefile" ;;
		esac
	done <<<"$out"
	[ "$n" -gt 0 ] || echo "lint: Makefile:0: make -n shows no C compile at all (the check is broken)"
}

# --- main --------------------------------------------------------------------

ALL="banned cmd headers statedir werror"
checks=${*:-$ALL}
for c in $checks; do
	case " $ALL " in
	*" $c "*) ;;
	*) echo "usage: scripts/lint.sh [$(echo "$ALL" | tr ' ' '|')]..." >&2; exit 2 ;;
	esac
done

results=$(for c in $checks; do "check_$c"; done)
if [ -n "$results" ]; then
	printf '%s\n' "$results"
	n=$(printf '%s\n' "$results" | grep -c '^lint: [^ ]*:[0-9]*: ')
	echo "lint: $n finding(s)" >&2
	exit 1
fi
exit 0
