#!/usr/bin/env bash
# Vendor htmx into src/crmledger/web/static/vendor/ (no CDN: the CSP allows 'self' only).
#
#   scripts/vendor_htmx.sh            # the pinned version below
#   HTMX_VERSION=2.0.x scripts/vendor_htmx.sh
#
# Fetches the package with `npm pack` into a temp dir, checks the tarball against the
# registry's sha512 integrity, extracts dist/htmx.min.js and LICENSE, and records the
# provenance plus the sha384 SRI of htmx.min.js in VENDORED.json (base.html uses the SRI).
set -euo pipefail

VERSION="${HTMX_VERSION:-2.0.11}"
PKG="htmx.org"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/src/crmledger/web/static/vendor"

command -v npm >/dev/null || { echo "vendor_htmx: npm is required" >&2; exit 1; }
command -v openssl >/dev/null || { echo "vendor_htmx: openssl is required" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

expected="$(npm view "$PKG@$VERSION" dist.integrity 2>/dev/null)"
case "$expected" in
  sha512-*) ;;
  *) echo "vendor_htmx: no sha512 integrity for $PKG@$VERSION (got '$expected')" >&2; exit 1 ;;
esac

tarball="$(cd "$TMP" && npm pack "$PKG@$VERSION" --silent 2>/dev/null | tail -n 1)"
[ -f "$TMP/$tarball" ] || { echo "vendor_htmx: npm pack produced no tarball" >&2; exit 1; }

actual="sha512-$(openssl dgst -sha512 -binary "$TMP/$tarball" | openssl base64 -A)"
if [ "$actual" != "$expected" ]; then
  echo "vendor_htmx: integrity mismatch for $tarball" >&2
  echo "  expected $expected" >&2
  echo "  actual   $actual" >&2
  exit 1
fi

tar -xzf "$TMP/$tarball" -C "$TMP" package/dist/htmx.min.js package/LICENSE
mkdir -p "$DEST"
install -m 0644 "$TMP/package/dist/htmx.min.js" "$DEST/htmx.min.js"
install -m 0644 "$TMP/package/LICENSE" "$DEST/htmx.LICENSE"

sri="sha384-$(openssl dgst -sha384 -binary "$DEST/htmx.min.js" | openssl base64 -A)"

# The tarball is recorded by its registry path (npm's own naming), not a host name.
cat > "$DEST/VENDORED.json" <<JSON
{
  "name": "$PKG",
  "version": "$VERSION",
  "tarball": "$PKG/-/$tarball",
  "npm_integrity": "$expected",
  "file": "htmx.min.js",
  "sri": "$sri",
  "license_file": "htmx.LICENSE"
}
JSON

echo "vendored $PKG@$VERSION -> $DEST/htmx.min.js ($sri)"
