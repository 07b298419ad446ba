#!/usr/bin/env python3
"""Drive viommu-system the way QEMU's libqtest (tests/qtest/libqtest.c) drives
QEMU: the test listens on two unix sockets, starts the emulator with
`-qtest unix:QTEST_SOCK -chardev socket,path=QMP_SOCK,id=char0
-mon chardev=char0,mode=control`, accepts both connections, then speaks the
qtest line protocol on one and QMP on the other.

    python3 examples/qtest/libqtest_style.py [EMULATOR ARGS...]

EMULATOR defaults to `node dist/viommu-system.js`. The same test passes
against QEMU: `qemu-system-x86_64 -S` (CPUs stopped: Debian's QEMU 7.2 has no
qtest accelerator, and a running BIOS would race the test on port 0xcf8).
"""
import json
import os
import socket
import subprocess
import sys
import tempfile

emulator = sys.argv[1:] or ["node", "dist/viommu-system.js"]
tmp = tempfile.mkdtemp(prefix="viommu-qtest-")
paths = {name: os.path.join(tmp, name + ".sock") for name in ("qtest", "qmp")}
listeners = {}
for name, path in paths.items():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    listeners[name] = s

proc = subprocess.Popen(emulator + [
    "-machine", "q35", "-nodefaults", "-display", "none", "-device", "edu",
    "-qtest", "unix:" + paths["qtest"],
    "-chardev", "socket,path=%s,id=char0" % paths["qmp"], "-mon", "chardev=char0,mode=control",
])
qtest = listeners["qtest"].accept()[0].makefile("rw")
qmp = listeners["qmp"].accept()[0].makefile("rw")


def qtest_cmd(line):
    """One qtest command; the reply line ("OK ..." or "FAIL ...")."""
    qtest.write(line + "\n")
    qtest.flush()
    return qtest.readline().strip()


def qmp_cmd(execute, **arguments):
    """One QMP command; its "return" (events before it are skipped)."""
    qmp.write(json.dumps({"execute": execute, "arguments": arguments}) + "\n")
    qmp.flush()
    while True:
        msg = json.loads(qmp.readline())
        if "return" in msg or "error" in msg:
            return msg


print("QMP greeting:", json.loads(qmp.readline())["QMP"]["version"]["package"])
qmp_cmd("qmp_capabilities")
# The edu device sits at 00:01.0: read its vendor/device ID through the config mechanism #1 ports.
print("outl 0xcf8 0x80000800 ->", qtest_cmd("outl 0xcf8 0x80000800"))
ids = qtest_cmd("inl 0xcfc")
print("inl 0xcfc ->", ids)
info = qmp_cmd("human-monitor-command", **{"command-line": "info pci"})["return"]
print("info pci:", next(l.strip() for l in info.splitlines() if "1234:11e8" in l))
qmp_cmd("quit")
proc.wait(timeout=10)
sys.exit(0 if ids == "OK 0x11e81234" else 1)
