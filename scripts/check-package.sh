#!/usr/bin/env bash
# Packaging test (run by .ci/run): the tarball npm would publish installs into
# an empty prefix, its binary starts and scans an embedded database, and it
# ships bin + dist + the man page (+ README, LICENSE, CHANGELOG) and nothing else; installing it runs no
# install script (npm warns about any: the build is prepack, not prepare) and puts the man page in place.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tarball=$(npm pack --silent --pack-destination "$work")
listing=$(tar -tzf "$work/$tarball")
unexpected=$(grep -vE '^package/(bin/|dist/|man/lead-dedupe\.1$|README\.md$|LICENSE$|CHANGELOG\.md$|package\.json$)' <<<"$listing" || true)
if [ -n "$unexpected" ]; then
  echo "package: files that should not ship:" >&2
  echo "$unexpected" >&2
  exit 1
fi
for required in package/bin/lead-dedupe.js package/dist/lead-dedupe.cjs package/dist/lead-dedupe.cjs.cache package/dist/index.mjs package/dist/types/src/index.d.ts package/man/lead-dedupe.1 package/LICENSE package/README.md package/CHANGELOG.md; do
  grep -qx "$required" <<<"$listing" || { echo "package: $required is missing" >&2; exit 1; }
done

install_log=$(npm install --no-audit --no-fund --prefix "$work/prefix" -g "$work/$tarball" 2>&1)
if grep -qiE 'install-scripts|prepare|postinstall' <<<"$install_log"; then
  echo "package: installing the tarball warns about an install script:" >&2
  echo "$install_log" >&2
  exit 1
fi
[ -f "$work/prefix/share/man/man1/lead-dedupe.1" ] || { echo "package: the man page was not installed (share/man/man1/lead-dedupe.1)" >&2; exit 1; }
bin="$work/prefix/bin/lead-dedupe"
version=$("$bin" --version)
expected=$(node -p "require('./package.json').version")
[ "$version" = "$expected" ] || { echo "package: --version says '$version', package.json '$expected'" >&2; exit 1; }

(cd "$work" && "$bin" seed --database "pglite:$work/db" --rows 2000 >/dev/null)
surplus=$(cd "$work" && "$bin" scan --database "pglite:$work/db" --key device-phone --format json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).keys[0].surplus))')
# seed plants round(rows × 0.08069) surplus rows under device-phone
[ "$surplus" = "161" ] || { echo "package: scan of the installed binary found surplus '$surplus', expected 161" >&2; exit 1; }

# the library entry resolves and exposes the core
(cd "$work" && mkdir -p lib && cd lib && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "$work/$tarball" \
  && node --input-type=module -e "import { scan, planClean, withDatabase } from 'lead-dedupe'; if (typeof scan !== 'function' || typeof planClean !== 'function' || typeof withDatabase !== 'function') process.exit(1)")

echo "package: $tarball ($(wc -l <<<"$listing") files) installs, starts (--version $version) and scans (surplus $surplus)"
