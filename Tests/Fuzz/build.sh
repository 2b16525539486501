#!/usr/bin/env bash
# Builds the libFuzzer targets (Tests/Fuzz/README.md): every Tests/Fuzz/Targets/<name>.swift becomes
# .build-fuzz/fuzz/<name>, or only the names given as arguments.
#
# 1. SwiftPM builds the library modules the targets test (SwitchboardCore, SwitchboardCrypto,
#    TwilioSupport, SMSChannel, WeChatChannel, VoiceChannel, EmailChannel and Yams) into their own scratch path, .build-fuzz, instrumented for
#    libFuzzer (-sanitize=fuzzer: coverage counters, no main) and AddressSanitizer, with
#    -enable-testing so a target can `@testable import` an internal entry point. The regular .build
#    and `swift build` never see these flags or the targets.
# 2. swiftc compiles each target file against those modules and links it with their object files,
#    libFuzzer's main and the C libraries (libxml2, OpenSSL, GMime).
set -euo pipefail
cd "$(dirname "$0")/../.."
SCRATCH=.build-fuzz
CONFIG=release
FLAGS=(-sanitize=fuzzer,address -g)
LINK=(-use-ld=lld)
MODULES=(SwitchboardCore SwitchboardCrypto TwilioSupport SMSChannel WeChatChannel VoiceChannel EmailChannel Yams)

for target in SMSChannel WeChatChannel VoiceChannel EmailChannel; do
    swift build -c "$CONFIG" --scratch-path "$SCRATCH" --target "$target" -Xswiftc -enable-testing \
        $(printf -- '-Xswiftc %s ' "${FLAGS[@]}") 2>&1 | grep -v '^\[' || true
    [ "${PIPESTATUS[0]}" = 0 ] || { echo "fuzz: swift build --target $target failed" >&2; exit 1; }
done

BIN="$SCRATCH/$CONFIG"
objects=()
for m in "${MODULES[@]}"; do objects+=("$BIN/$m.build"/*.o); done
objects+=("$BIN/CYaml.build/src"/*.o)

mkdir -p "$SCRATCH/fuzz"
if [ $# -gt 0 ]; then names=("$@"); else names=($(ls Tests/Fuzz/Targets | sed -n 's/\.swift$//p')); fi
for name in "${names[@]}"; do
    src="Tests/Fuzz/Targets/$name.swift"
    out="$SCRATCH/fuzz/$name"
    # Relink only when the target or a module changed.
    if [ -x "$out" ] && [ "$out" -nt "$src" ] && [ -z "$(find "${objects[@]}" -newer "$out" -print -quit)" ]; then continue; fi
    echo "fuzz: building $name"
    swiftc -swift-version 6 -parse-as-library -O "${FLAGS[@]}" -module-name "Fuzz_${name//-/_}" \
        -I "$BIN/Modules" \
        -Xcc -fmodule-map-file=Sources/CLibXML2/module.modulemap \
        -Xcc -fmodule-map-file=Sources/COpenSSL/module.modulemap \
        -Xcc -fmodule-map-file=Sources/CGMime/module.modulemap \
        $(pkg-config --cflags-only-I gmime-3.0 | sed 's/-I/-Xcc -I/g') \
        -Xcc -fmodule-map-file="$SCRATCH/checkouts/Yams/Sources/CYaml/include/module.modulemap" \
        $(pkg-config --cflags-only-I libxml-2.0 | sed 's/-I/-Xcc -I/g') \
        "$src" "${objects[@]}" "${LINK[@]}" -lxml2 -lssl -lcrypto $(pkg-config --libs gmime-3.0) -o "$out"
done
