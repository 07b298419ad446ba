#!/usr/bin/env python3
"""Writes the DDW qtest scripts; record them with
   node test/machine/data/record.mjs qtest test/iommu/spapr/data/NAME.qtest
(Debian's qemu-system-ppc64 7.2). The tests replay them against viommu."""
BH, BL = 0x08000000, 0x20000000

def script(name, comment, body, extra_args=''):
    lines = ["# qemu: qemu-system-ppc64",
             f"# args: -machine pseries -nodefaults -display none -device edu{extra_args}",
             "# record-args: -S",
             f"# {comment}",
             "# RTAS arguments at 0x1000, returns at 0x1100 (big-endian words); returns preset to 0xdeadbeef.",
             "endianness"]
    def call(name, args, nret, nargs=None):
        for i, a in enumerate(args):
            lines.append(f"writel 0x{0x1000+4*i:x} 0x{a & 0xffffffff:x}")
        for i in range(nret):
            lines.append(f"writel 0x{0x1100+4*i:x} 0xdeadbeef")
        lines.append(f"rtas {name} {len(args) if nargs is None else nargs} 0x1000 {nret} 0x1100")
        for i in range(nret):
            lines.append(f"readl 0x{0x1100+4*i:x}")
    ops = {
        'query': lambda n=5, buid=(BH, BL), nargs=None: call("ibm,query-pe-dma-window", [0, *buid], n, nargs),
        'create': lambda ps, ws, nret=4, buid=(BH, BL), nargs=None: call("ibm,create-pe-dma-window", [0, *buid, ps, ws], nret, nargs),
        'remove': lambda liobn, nret=1, nargs=None: call("ibm,remove-pe-dma-window", [liobn], nret, nargs),
        'reset': lambda nret=1, buid=(BH, BL), nargs=None: call("ibm,reset-pe-dma-window", [0, *buid], nret, nargs),
    }
    body(**ops)
    open(name, "w").write("\n".join(lines) + "\n")

def main_body(query, create, remove, reset):
    # conformance behaviour 4: a fresh PHB
    query(5); query(6); query(4); query(5, buid=(BH, BL + 1)); query(5, nargs=2)
    # behaviour 5: create(16, 40) with only the default window
    create(16, 40); query(5); query(6)
    create(16, 40)            # no window left -> -1
    create(13, 40)            # page shift not offered -> -3
    create(16, 12)            # window smaller than a page -> -3
    create(21, 30)            # 2M is offered: -1 (no window left), not -3
    create(34, 40)            # 16G is not -> -3
    create(24, 40, nret=3); create(16, 40, nargs=4)
    remove(0x80000001); query(5)
    remove(0x80000001); remove(0x80000005); remove(0x12345678); remove(0x80000000, nret=2)
    # behaviour 6: remove the default window, then the DDW: the default window comes back
    create(16, 40); remove(0x80000000); query(5); remove(0x80000001); query(5)
    create(12, 20); remove(0x80000001); query(5)
    # reset: only the default window
    create(16, 40); reset(); query(5); create(16, 40); reset(); query(5)
    reset(nret=2); reset(buid=(BH, BL + 1))
    # no window at all: the next create goes to the default address with LIOBN#0, the one after to dma64_win_addr
    remove(0x80000000); query(5); create(16, 36); query(5); create(12, 31); query(5)
    remove(0x80000001); query(5); reset(); query(5)
    # window shift - page shift >= 32: the entry count does not fit QEMU's u32 nb_table -> -1
    # (QEMU 7.2 then keeps a zero-sized region mapped for LIOBN#1, so nothing more is done after it)
    create(12, 44); query(5)

def defwin_body(query, create, remove, reset):
    # QEMU never clears def_win: a DDW created in LIOBN#0's slot counts as the default window
    remove(0x80000000); query(5)
    create(16, 36); query(5)
    remove(0x80000000); query(5)   # QEMU: no restore (2 available); LoPAPR: the default window is restored
    reset(); query(5)

script("pseries-ddw.qtest", "DDW RTAS calls (hw/ppc/spapr_rtas_ddw.c) on PHB 0x800000020000000: conformance behaviours 4-6.", main_body)
script("pseries-ddw-defwin.qtest", "QEMU 7.2's def_win quirk: removing a DDW that reused LIOBN#0 does not restore the default window.", defwin_body)
