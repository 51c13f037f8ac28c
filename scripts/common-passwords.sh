#!/usr/bin/env bash
# Regenerates crates/domain/data/common-passwords.txt: the passwords of 8 bytes or more among
# the 30,000 most common ones that zxcvbn 4.4.2 (npm, MIT licence, Dropbox) ships, most
# common first, lowercase. The server refuses them as new passwords (API.md, Auth).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent zxcvbn@4.4.2 >/dev/null && tar xzf zxcvbn-4.4.2.tgz)
node -e '
  const list = require(process.argv[1]).passwords;
  process.stdout.write(list.filter(p => Buffer.byteLength(p) >= 8).join("\n") + "\n");
' "$work/package/lib/frequency_lists.js" > crates/domain/data/common-passwords.txt
cp "$work/package/LICENSE.txt" crates/domain/data/common-passwords.LICENSE.txt
wc -l crates/domain/data/common-passwords.txt
