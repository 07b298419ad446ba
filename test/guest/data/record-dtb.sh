#!/bin/sh
# Records a QEMU board's flattened device tree (-machine dumpdtb=) as a hex
# text data file with the QEMU version and command in its header. Needs QEMU;
# the tests do not.   sh record-dtb.sh <out.dtb.txt> <qemu> <args...>
set -e
out=$1; qemu=$2; shift 2
tmp=$(mktemp)
"$qemu" "$@" -machine dumpdtb="$tmp" -display none >/dev/null 2>&1 || true
{
  echo "# flattened device tree recorded from $("$qemu" --version | head -1)"
  echo "# command: $qemu $* -machine dumpdtb=FILE -display none"
  echo "# size: $(wc -c < "$tmp") bytes; format: the DTB bytes as hex, 32 per line, trailing zero bytes left out"
  od -An -v -tx1 "$tmp" | tr -d ' \n' | sed -e 's/\(00\)*$//' | fold -w 64
  echo
} > "$out"
rm -f "$tmp"
echo "$out: $(grep -v '^#' "$out" | tr -d '\n' | wc -c) hex digits"
