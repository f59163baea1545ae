#!/bin/sh
# bench/mkcore.sh REV DIR: the core of commit REV laid out as installed
# (DIR/pydbg_utrace/ with arch/ and engines/ inside it), for `bench/run --compare DIR`
# and `bench/steps.py --compare DIR`.  DIR is emptied first.
set -e
[ $# -eq 2 ] || { echo "usage: bench/mkcore.sh REV DIR" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$2"; mkdir -p "$2/pydbg_utrace/arch" "$2/pydbg_utrace/engines"
git -C "$repo" archive "$1" pydbg_utrace | tar -x -C "$2"
git -C "$repo" archive "$1" arch | tar -x -C "$2/pydbg_utrace/arch" --strip-components=1
git -C "$repo" archive "$1" engines | tar -x -C "$2/pydbg_utrace/engines" --strip-components=1
