#!/usr/bin/env bash
# Downloads the model files of models/manifest.tsv from their official locations into the per-user
# cache (${XDG_CACHE_HOME:-~/.cache}/facepipe/models) and verifies each SHA-256. Files already there
# with the right checksum are kept. Files without a public download (the RetinaFace ONNX exports)
# must be copied into the cache by hand; the script says so.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${FACEPIPE_MODELS:-${XDG_CACHE_HOME:-$HOME/.cache}/facepipe/models}
mkdir -p "$dest"
status=0
while IFS=$'\t' read -r file sha url; do
  [[ -z "$file" || "$file" == \#* ]] && continue
  target="$dest/$file"
  if [ -f "$target" ] && [ "$(sha256sum "$target" | cut -d' ' -f1)" = "$sha" ]; then
    echo "ok       $file"
    continue
  fi
  if [ "$url" = "-" ]; then
    echo "missing  $file: no public download; copy it into $dest (SHA-256 $sha)" >&2
    status=1
    continue
  fi
  echo "fetching $file"
  tmp="$target.part"
  if ! curl -fL --retry 3 -o "$tmp" "$url"; then
    echo "error    $file: download from $url failed" >&2
    rm -f "$tmp"; status=1; continue
  fi
  actual=$(sha256sum "$tmp" | cut -d' ' -f1)
  if [ "$actual" != "$sha" ]; then
    echo "error    $file: SHA-256 mismatch (expected $sha, got $actual); not installed" >&2
    rm -f "$tmp"; status=1; continue
  fi
  mv "$tmp" "$target"
  echo "ok       $file"
done < models/manifest.tsv
exit $status
