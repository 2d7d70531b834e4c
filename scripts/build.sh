#!/usr/bin/env bash
# Builds and installs the extension (PGXS) and builds the CMake targets into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
make -s -j"$jobs"
make -s install
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs" >/dev/null
echo "build: extension installed into $(pg_config --pkglibdir), tools in build/"
