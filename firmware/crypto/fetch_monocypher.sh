#!/bin/sh
# Fetch Monocypher 4.0.3 (monocypher.c/.h) from the pymonocypher sdist on PyPI into a git-ignored
# build folder (docs/SOURCES.md §7). The sources are never committed. Usage: fetch_monocypher.sh [DEST]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DEST=${1:-$REPO/build/monocypher}
PY=${PYTHON:-$REPO/.venv/bin/python}
[ -f "$DEST/monocypher.c" ] && [ -f "$DEST/monocypher.h" ] && exit 0
mkdir -p "$DEST"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$PY" -m pip download -q --no-deps --no-binary :all: --no-build-isolation pymonocypher==4.0.3.4 -d "$TMP"
tar -xzf "$TMP"/pymonocypher-4.0.3.4.tar.gz -C "$TMP"
C=$(find "$TMP" -name monocypher.c | head -1)
H=$(find "$TMP" -name monocypher.h | head -1)
cp "$C" "$H" "$DEST/"
echo "monocypher: $DEST"
