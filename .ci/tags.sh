#!/bin/sh
# Prints the build tags for the native engines whose libraries are installed.
tags=""
pkg-config --exists pocketsphinx 2>/dev/null && tags="$tags pocketsphinx"
[ -f /usr/include/flite/flite.h ] && tags="$tags flite"
pkg-config --exists opus ogg 2>/dev/null && tags="$tags opus"
[ -f /usr/include/lame/lame.h ] && tags="$tags lame"
echo $tags
