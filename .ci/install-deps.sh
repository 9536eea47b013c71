#!/usr/bin/env bash
# Installs the Debian packages ominix-api's engines and tests use. Safe to
# run again; does nothing when everything is present.
set -euo pipefail
pkgs=(pkg-config libpocketsphinx-dev pocketsphinx-en-us pocketsphinx flite1-dev flite espeak-ng sox
      alsa-utils chromium libopus-dev libopusfile-dev libogg-dev libmp3lame-dev opus-tools libsox-fmt-mp3 flac)
# Node.js runs the openai npm package in tests; Debian's is enough when the
# machine has none of its own.
command -v node >/dev/null && command -v npm >/dev/null || pkgs+=(nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
