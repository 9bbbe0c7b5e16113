#!/bin/sh
# mutate.sh: mutation testing of the security-critical packages with
# gremlins (github.com/go-gremlins/gremlins v0.6.0). See docs/testing.md.
#
#   scripts/mutate.sh                           every package in the default list
#   scripts/mutate.sh internal/session          one package
#   scripts/mutate.sh 'internal/web=middleware.go,pages.go'   some files of one package
#
# It never touches the working tree: the source is copied to a temporary
# directory first (HEAD by default; MUTATE_SRC=worktree copies the working
# tree's tracked and untracked files instead, uncommitted changes included),
# and gremlins mutates copies of that copy. Other people may edit and test
# in the working tree meanwhile.
#
# One package at a time, one gremlins worker, each package bounded by
# MUTATE_PKG_TIMEOUT. A package is mutated alone: its subpackages are
# separate entries of the list.
#
# Environment:
#   MUTATE_SRC          head (default) or worktree
#   MUTATE_WORKERS      gremlins workers (default 1; the machine has 2 cores)
#   MUTATE_COEF         timeout coefficient: a mutant's tests may take this
#                       many times the coverage run (default 4)
#   MUTATE_PKG_TIMEOUT  bound on one package's whole run (default 60m)
#   MUTATE_OUT          where logs and JSON reports go (default a new temp dir)
#   MUTATE_FLAGS        extra gremlins flags (e.g. --dry-run)
#   MUTATE_WITHOUT      files to leave out of the copy, e.g. a test file,
#                       to measure what it adds (the score "before" it)
#   GREMLINS            the gremlins binary (installed at v0.6.0 if missing)
#   PORTVAKT_TEST_POSTGRES_DSN  an existing PostgreSQL for the tests, which
#                       saves starting a throwaway cluster for every mutant
set -eu

repo=$(git rev-parse --show-toplevel)
cd "$repo"

DEFAULT_PKGS="internal/session internal/flow internal/op internal/authn internal/authn/password internal/authn/recovery internal/authn/sms internal/authn/totp internal/authn/webauthn internal/web=middleware.go,pages.go"
if [ $# -eq 0 ]; then
	# shellcheck disable=SC2086
	set -- $DEFAULT_PKGS
fi

MUTATE_SRC=${MUTATE_SRC:-head}
MUTATE_WORKERS=${MUTATE_WORKERS:-1}
MUTATE_COEF=${MUTATE_COEF:-4}
MUTATE_PKG_TIMEOUT=${MUTATE_PKG_TIMEOUT:-60m}
MUTATE_FLAGS=${MUTATE_FLAGS:-}

GREMLINS=${GREMLINS:-$(command -v gremlins || echo "$(go env GOPATH)/bin/gremlins")}
if [ ! -x "$GREMLINS" ]; then
	echo "mutate: installing gremlins v0.6.0"
	go install github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
	GREMLINS="$(go env GOPATH)/bin/gremlins"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/portvakt-mutate.XXXXXX")
out=${MUTATE_OUT:-$work/out}
mkdir -p "$out"
trap 'rm -rf "$work/src" "$work/tmp"; rmdir "$work" 2>/dev/null || true' EXIT INT TERM

mkdir -p "$work/src" "$work/tmp"
# The throwaway PostgreSQL of the tests runs as user postgres when the
# tests run as root, and keeps its data under TMPDIR.
chmod 755 "$work" "$work/tmp"
case $MUTATE_SRC in
head)
	git archive HEAD | tar -x -C "$work/src"
	echo "mutate: source is HEAD $(git rev-parse --short HEAD)"
	;;
worktree)
	git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -x -C "$work/src"
	echo "mutate: source is the working tree (HEAD $(git rev-parse --short HEAD) and uncommitted changes)"
	;;
*)
	echo "mutate: MUTATE_SRC must be head or worktree" >&2
	exit 2
	;;
esac

for f in ${MUTATE_WITHOUT:-}; do
	rm -f "$work/src/$f"
	echo "mutate: without $f"
done

# -count=1: the coverage run sets every mutant's time limit, so it must
# really run rather than come from the test cache.
GOFLAGS="${GOFLAGS:-} -count=1"
export GOFLAGS
export TMPDIR="$work/tmp"

summary="$out/summary.txt"
: >"$summary"
for spec in "$@"; do
	pkg=${spec%%=*}
	files=
	[ "$pkg" != "$spec" ] && files=${spec#*=}
	dir="$work/src/$pkg"
	if [ ! -d "$dir" ]; then
		echo "mutate: no package $pkg" >&2
		exit 2
	fi
	# Only this package's own files: subpackages are entries of their own,
	# and with files= only the files named.
	set -- -E '/'
	for f in "$dir"/*.go; do
		base=$(basename "$f")
		case $base in *_test.go) continue ;; esac
		if [ -n "$files" ]; then
			case ",$files," in *",$base,"*) continue ;; esac
			set -- "$@" -E "^$(printf '%s' "$base" | sed 's/\./\\./g')\$"
		fi
	done
	name=$(printf '%s' "$spec" | tr '/=,' '__-')
	echo "mutate: $spec (log $out/$name.log)"
	start=$(date +%s)
	status=0
	# shellcheck disable=SC2086
	(cd "$work/src" && timeout "$MUTATE_PKG_TIMEOUT" "$GREMLINS" unleash \
		--workers "$MUTATE_WORKERS" --timeout-coefficient "$MUTATE_COEF" \
		--invert-logical -o "$out/$name.json" "$@" $MUTATE_FLAGS "./$pkg") \
		>"$out/$name.log" 2>&1 || status=$?
	took=$(($(date +%s) - start))
	grep -E '^ *(LIVED|TIMED OUT|NOT VIABLE) ' "$out/$name.log" | sed 's/^ */  /' || true
	line=$(grep -E '^ *(Killed|Runnable): [0-9]+' "$out/$name.log" | tail -1 | sed 's/^ *//')
	eff=$(grep -E '^ *(Test efficacy|Mutator coverage): ' "$out/$name.log" | sed 's/^ *//' | paste -sd ' ' -)
	if [ "$status" -eq 124 ]; then
		line="stopped after $MUTATE_PKG_TIMEOUT"
	elif [ -z "$line" ]; then
		line="gremlins failed (exit $status), see the log"
	fi
	printf '%-40s %s; %s (%ss)\n' "$spec" "$line" "$eff" "$took" | tee -a "$summary"
done
echo
echo "mutate: summary"
cat "$summary"
echo "mutate: logs and JSON reports in $out"
