# tests/vm/lib.sh: the helpers of the scripts that run inside the tests/vm
# guest (POSIX sh and local: dash and bash). Sourced, never run:
#   . "$(dirname "$0")/../vm/lib.sh"
#
# Results, one line each ("ok - WHAT", "not ok - WHAT"), counted:
#   ok WHAT / not_ok WHAT   a result
#   check WHAT COMMAND...   ok when COMMAND succeeds, else not ok
#   summary NAME [NOTE]     "NAME: N passed, N failed [(NOTE)]"; its status
#                           is 0 only when something passed and nothing failed;
#                           the cases not run (below) are named in the note
# A subset of the cases (tools/test's sanitizer pass, debugging):
#   selected NAME           whether case NAME runs: yes, unless the suite set
#                           CASES_ONLY (an extended regex, from its own
#                           WLPRIME_<SUITE>_ONLY variable) and it does not
#                           match; a case not run is said so and counted
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
# Colours (RRGGBB):
#   yuv_rgb RRGGBB          what our dmabuf client's YUV samples of RRGGBB
#                           show: BT.601 limited range in integers
#                           (tests/clients/dmabuf_pattern.hpp), inverted exactly
#   rgb_near GOT WANT TOL   every channel of GOT within +-TOL of WANT's
# Counts:
#   scaled N [MIN]          N times WLPRIME_TEST_SCALE percent (default 100),
#                           at least MIN (default 1). tools/test sets a smaller scale for
#                           the sanitizer pass: counts that only make a case
#                           longer (frames, clients, buffers) go through
#                           this; counts that a check is about do not.

passes=0 failures=0 not_run= CASES_ONLY=
ok() { echo "ok - $*"; passes=$((passes + 1)); }
not_ok() { echo "not ok - $*"; failures=$((failures + 1)); }
check() {
	local what="$1"
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
summary() {
	local note="${2:-}"
	if [ -n "$not_run" ]; then
		note="${note:+$note; }$(echo $not_run | wc -w) cases not run (only '$CASES_ONLY'):$not_run"
	fi
	echo "$1: $passes passed, $failures failed${note:+ ($note)}"
	[ "$failures" -eq 0 ] && [ "$passes" -gt 0 ]
}
selected() {
	[ -z "$CASES_ONLY" ] || echo "$1" | grep -Eq "$CASES_ONLY" && return 0
	echo "# $1: not run (not in '$CASES_ONLY')"
	not_run="$not_run $1"
	return 1
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

yuv_rgb() {
	awk -v c="$1" 'function fl(x) { return x == int(x) ? x : (x < 0 ? int(x) - 1 : int(x)) }
	function clamp(x) { x = int(x + 0.5); return x < 0 ? 0 : (x > 255 ? 255 : x) }
	BEGIN {
		r = ("0x" substr(c, 1, 2)) + 0; g = ("0x" substr(c, 3, 2)) + 0; b = ("0x" substr(c, 5, 2)) + 0
		y = fl((66 * r + 129 * g + 25 * b + 128) / 256) + 16
		cb = fl((-38 * r - 74 * g + 112 * b + 128) / 256) + 128
		cr = fl((112 * r - 94 * g - 18 * b + 128) / 256) + 128
		l = 1.164383 * (y - 16)
		printf "%02x%02x%02x", clamp(l + 1.596027 * (cr - 128)),
			clamp(l - 0.391762 * (cb - 128) - 0.812968 * (cr - 128)), clamp(l + 2.017232 * (cb - 128))
	}'
}
rgb_near() {
	case $1 in [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;; *) return 1 ;; esac
	local i=1 d
	while [ $i -le 5 ]; do
		d=$(($(printf '%d' "0x$(echo "$1" | cut -c$i-$((i + 1)))") - $(printf '%d' "0x$(echo "$2" | cut -c$i-$((i + 1)))")))
		[ "${d#-}" -le "$3" ] || return 1
		i=$((i + 2))
	done
}

scaled() {
	local n=$(($1 * ${WLPRIME_TEST_SCALE:-100} / 100))
	[ "$n" -ge "${2:-1}" ] || n=${2:-1}
	echo "$n"
}
