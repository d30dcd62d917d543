#!/bin/sh
# Builds the jar of an earlier release, e.g. the previous one for the rolling-upgrade test:
#   src/main/scripts/release-jar.sh TAG OUT      (make release-jar TAG=v0.1.0 OUT=target/releases/v0.1.0)
# The release's commit is its tag when this clone has it, else the one RELEASES records for it. The sources of that
# commit are checked out in a temporary git worktree (this checkout is not touched) and built there with Maven
# (offline by default: MVN="mvn -B -o"; the dependencies are those of this build, already in the local repository);
# OUT gets fib-service.jar and lib/ (the embedded MariaDB), lib/ a link to this checkout's target/lib/ when the release
# names the same jars, else the release's own. Exit 1 with the reason when it cannot: an unknown release, a commit this
# clone lacks (a shallow clone says how to deepen it), a failed build, a jar that is not that release.
set -eu
tag=${1:?usage: release-jar.sh TAG OUT (e.g. v0.1.0 target/releases/v0.1.0)}
out=${2:?usage: release-jar.sh TAG OUT (e.g. v0.1.0 target/releases/v0.1.0)}
mvn=${MVN:-mvn -B -o}
say() { echo "release-jar: $*" >&2; }
top=$(git rev-parse --show-toplevel) || { say "not inside a git checkout"; exit 1; }
cd "$top"
case "$tag" in
  v[0-9]*.[0-9]*.[0-9]*) version=${tag#v} ;;
  *) say "'$tag' is not a release tag (vMAJOR.MINOR.PATCH, see RELEASES)"; exit 1 ;;
esac
if commit=$(git rev-parse -q --verify "refs/tags/$tag^{commit}"); then
  from="tag $tag"
else
  commit=$(awk -v t="$tag" '$1 == t { print $2 }' RELEASES 2>/dev/null)
  [ -n "$commit" ] || { say "no tag $tag in this clone and no line for it in RELEASES (known: $(awk '/^v/ { printf "%s ", $1 }' RELEASES))"; exit 1; }
  from="RELEASES (this clone has no tag $tag)"
fi
if ! git cat-file -e "$commit^{commit}" 2>/dev/null; then
  if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
    say "$tag is commit $commit, which this shallow clone does not have: deepen it first (git fetch --unshallow, or git fetch origin tag $tag)"
  else
    say "$tag is commit $commit, which this clone does not have: git fetch origin (and git fetch origin tag $tag)"
  fi
  exit 1
fi
say "$tag is commit $commit (from $from)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fib-release-XXXXXX")
cleanup() {
  git worktree remove --force "$tmp/src" >/dev/null 2>&1 || true
  rm -rf "$tmp"
  git worktree prune
}
trap cleanup EXIT
trap 'exit 1' INT TERM
git worktree add -q --detach "$tmp/src" "$commit"
say "building $tag in $tmp/src ($mvn clean package -DskipTests)"
(cd "$tmp/src" && $mvn -q clean package -DskipTests) > "$tmp/build.log" 2>&1 || {
  tail -30 "$tmp/build.log" >&2
  say "the build of $tag failed (offline: its dependencies may be missing from the local repository; MVN=\"mvn -B\" fetches them)"
  exit 1
}
mkdir -p "$out"
rm -rf "$out/lib" "$out/fib-service.jar"
cp "$tmp/src/target/fib-service.jar" "$out/fib-service.jar"
# the manifest's Class-Path names lib/*.jar: this build's copies serve when they are the same jars
classpath=$(unzip -p "$out/fib-service.jar" META-INF/MANIFEST.MF | tr -d '\r' | sed -n '/^Class-Path:/,/^[A-Z][A-Za-z-]*:/p' \
  | sed -e '/^Class-Path:/s/^Class-Path: *//' -e '/^[A-Z][A-Za-z-]*:/d' -e 's/^ //' | tr -d '\n')
same=true
for jar in $classpath; do
  [ -f "target/$jar" ] || same=false
done
if [ "$same" = true ] && [ -d target/lib ]; then
  ln -s "$top/target/lib" "$out/lib"
else
  mv "$tmp/src/target/lib" "$out/lib"
fi
got=$(cd "$out" && java -jar fib-service.jar --version 2>&1 | head -1)
case "$got" in
  "fib-service $version "*) say "$out/fib-service.jar: $got" ;;
  *) say "$out/fib-service.jar says '$got', not fib-service $version"; exit 1 ;;
esac
