# tests/vm/lib.sh: the helpers of the scripts that run inside the tests/vm
# guest (POSIX sh and local: dash and bash). Sourced, never run:
#   . "$(dirname "$0")/../vm/lib.sh"
#
# Results, one line each ("ok - WHAT", "not ok - WHAT"), counted:
#   ok WHAT / not_ok WHAT   a result
#   check WHAT COMMAND...   ok when COMMAND succeeds, else not ok
#   summary NAME [NOTE]     "NAME: N passed, N failed [(NOTE)]"; its status
#                           is 0 only when something passed and nothing failed
# Waiting (bounded: a hang fails the case, not the whole run; the bound is
# no assertion):
#   wait_until SECONDS COMMAND...  runs COMMAND every 0.1 s until it succeeds
#   wait_for FILE PATTERN [SECONDS] until FILE has a line matching PATTERN
#                           (grep basic regex; 60 s by default)
#   wait_gone PID [SECONDS] until process PID is gone (60 s by default)
# The kernel's side:
#   has FILE PATTERN        FILE has a line matching PATTERN
#   live_dmabufs            the number of dma-bufs alive (dma_buf/bufinfo)
#   minor_of NODE           the DRM minor of /dev/dri/NODE (its debugfs dir)
#   framebuffers_of NODE    the framebuffers on that device (debugfs)
#   dev_of NODE             the node's dev_t as MAJOR:MINOR, in decimal
#   pixel_rgb FILE N        RRGGBB of line N of scanout_probe output
#   json_num KEY FILE       the first number "KEY": N of FILE (wlprime-debug
#                           --json with ',{}' turned into newlines)
# Counts:
#   scaled N [MIN]          N times WLPRIME_TEST_SCALE percent (default 100),
#                           at least MIN (default 1). tools/test sets a smaller scale for
#                           the sanitizer pass: counts that only make a case
#                           longer (frames, clients, buffers) go through
#                           this; counts that a check is about do not.

passes=0 failures=0
ok() { echo "ok - $*"; passes=$((passes + 1)); }
not_ok() { echo "not ok - $*"; failures=$((failures + 1)); }
check() {
	local what="$1"
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
summary() {
	echo "$1: $passes passed, $failures failed${2:+ ($2)}"
	[ "$failures" -eq 0 ] && [ "$passes" -gt 0 ]
}

wait_until() {
	local n=$(($1 * 10))
	shift
	until "$@"; do
		[ "$n" -gt 0 ] || return 1
		n=$((n - 1))
		sleep 0.1
	done
}
wait_for() {
	wait_until "${3:-60}" grep -q -- "$2" "$1" 2>/dev/null && return 0
	echo "# no '$2' in $1 after ${3:-60} s" >&2
	return 1
}
wait_gone() {
	wait_until "${2:-60}" eval "! kill -0 $1 2>/dev/null"
}

has() { grep -q -- "$2" "$1"; }
live_dmabufs() { awk '/^Total/ {print $2}' /sys/kernel/debug/dma_buf/bufinfo; }
minor_of() { cut -d: -f2 "/sys/class/drm/${1##*/}/dev"; }
framebuffers_of() { grep -c '^framebuffer\[' "/sys/kernel/debug/dri/$(minor_of "$1")/framebuffer"; }
dev_of() { printf '%d:%d' "0x$(stat -L -c %t "$1")" "0x$(stat -L -c %T "$1")"; }
pixel_rgb() { sed -n "${2}p" "$1" | sed -n 's/.* 0x..\(......\)$/\1/p'; }
json_num() { sed -n "s/.*\"$1\": *\([0-9]*\).*/\1/p" "$2" | head -1; }

scaled() {
	local n=$(($1 * ${WLPRIME_TEST_SCALE:-100} / 100))
	[ "$n" -ge "${2:-1}" ] || n=${2:-1}
	echo "$n"
}
