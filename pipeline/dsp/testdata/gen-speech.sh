#!/bin/sh
# Regenerates speech3.s16: three synthetic utterances (two flite voices and
# espeak-ng) separated by 1.2 s of silence, as 16 kHz mono s16le, and
# speech3.txt: the first and last sample of each utterance's file.
# Needs flite, espeak-ng and sox (Debian packages of the same names).
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flite -voice slt -t "The quick brown fox jumps over the lazy dog." -o "$tmp/a.wav"
espeak-ng -s 150 -w "$tmp/b.wav" "Please turn off the lights in the kitchen."
flite -voice kal -t "Seven apples and three bananas." -o "$tmp/c.wav"
sox -n -r 16000 -c 1 -b 16 "$tmp/sil.wav" trim 0 1.2
pos=$(soxi -s "$tmp/sil.wav")
: > speech3.txt
list="$tmp/sil.wav"
for u in a b c; do
	sox "$tmp/$u.wav" -r 16000 -c 1 -b 16 "$tmp/${u}16.wav"
	n=$(soxi -s "$tmp/${u}16.wav")
	echo "$pos $((pos + n))" >> speech3.txt
	pos=$((pos + n + $(soxi -s "$tmp/sil.wav")))
	list="$list $tmp/${u}16.wav $tmp/sil.wav"
done
# shellcheck disable=SC2086
sox $list -t raw -e signed -b 16 -c 1 -r 16000 speech3.s16
