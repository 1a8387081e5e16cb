#!/usr/bin/env bash
# check_exports.sh LIB MAP HEADER SONAME [sanitized]
#
# The shared library's exports are exactly what the project promises:
#  1. the defined dynamic symbols of LIB (nm -D --defined-only), the names
#     in the version script MAP and the functions the HEADER declares with
#     GMP_API are one and the same set, and every one starts with gmp_;
#  2. every export carries a GMPRT_<major>.<minor> version node, and each
#     name appears in one node only;
#  3. LIB's SONAME is SONAME;
#  4. LIB needs no libstdc++ (skipped when the fifth argument is
#     "sanitized": sanitizer runtimes bring their own dependencies).
# Prints each difference by name; exit 1 on any.
set -euo pipefail

if [ $# -lt 4 ]; then
  echo "usage: $0 LIB MAP HEADER SONAME [sanitized]" >&2
  exit 2
fi
lib=$1 map=$2 header=$3 soname=$4 sanitized=${5:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# The library: NAME@@NODE or NAME@NODE for each defined dynamic symbol; the
# version nodes themselves show up as absolute (A) symbols and are skipped.
nm -D --defined-only "$lib" | awk 'NF == 3 && $2 != "A" { print $3 }' >"$tmp/versioned"
sed 's/@.*//' "$tmp/versioned" | sort -u >"$tmp/exported"

# The map: names listed under global: (comments stripped), node by node.
perl -0777 -ne '
  s{/\*.*?\*/}{}gs;
  while (/([A-Za-z_][\w.]*)\s*\{|(global|local)\s*:|\}|([A-Za-z_]\w*)\s*;/g) {
    if (defined $1) { $node = $1; $mode = ""; }
    elsif (defined $2) { $mode = $2; }
    elsif (defined $3) { print "$node $3\n" if $mode eq "global"; }
    else { $mode = ""; }
  }' "$map" >"$tmp/map_nodes"
awk '{ print $2 }' "$tmp/map_nodes" | sort >"$tmp/map_all"
sort -u "$tmp/map_all" >"$tmp/map"

# The header: preprocessor lines dropped, then each `GMP_API ... name(`.
perl -0777 -ne '
  s{/\*.*?\*/}{}gs; s{//[^\n]*}{}g; s{\\\n}{}g; s{^[ \t]*#[^\n]*}{}mg;
  while (/\bGMP_API\b([^;(]*)\(/g) {
    my @ids = ($1 =~ /([A-Za-z_]\w*)/g);
    print "$ids[-1]\n";
  }' "$header" | sort -u >"$tmp/header"

compare() { # compare A-FILE A-NAME B-FILE B-NAME
  local only
  only=$(comm -23 "$1" "$3" | paste -sd ' ' -)
  [ -z "$only" ] || fail "in $2 but not in $4: $only"
  only=$(comm -13 "$1" "$3" | paste -sd ' ' -)
  [ -z "$only" ] || fail "in $4 but not in $2: $only"
}
compare "$tmp/exported" "the library's exports" "$tmp/map" "gmprt.map"
compare "$tmp/map" "gmprt.map" "$tmp/header" "the header's GMP_API declarations"

bad=$(grep -v '^gmp_' "$tmp/exported" | paste -sd ' ' - || true)
[ -z "$bad" ] || fail "exports outside the gmp_ namespace: $bad"
dups=$(uniq -d "$tmp/map_all" | paste -sd ' ' -)
[ -z "$dups" ] || fail "names listed in more than one place in gmprt.map: $dups"
badnodes=$(awk '{ print $1 }' "$tmp/map_nodes" | sort -u | grep -Ev '^GMPRT_[0-9]+\.[0-9]+$' | paste -sd ' ' - || true)
[ -z "$badnodes" ] || fail "version nodes not named GMPRT_<major>.<minor>: $badnodes"
unversioned=$(grep -Ev '@@?GMPRT_[0-9]+\.[0-9]+$' "$tmp/versioned" | paste -sd ' ' - || true)
[ -z "$unversioned" ] || fail "exports without a GMPRT_x.y version: $unversioned"

got=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$got" = "$soname" ] || fail "SONAME is '${got}', expected '$soname'"

needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p' | paste -sd ' ' -)
if [ "$sanitized" = sanitized ]; then
  echo "note: sanitizer build, libstdc++ check skipped (NEEDED: $needed)"
elif grep -q 'libstdc++' <<<"$needed"; then
  fail "libstdc++ is NEEDED (NEEDED: $needed): the library must not need the C++ runtime"
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures export check(s) failed: see docs/ABI.md"
  exit 1
fi
echo "OK: $(wc -l <"$tmp/exported") exports == gmprt.map == GMP_API declarations;" \
  "SONAME $soname; NEEDED: $needed"
