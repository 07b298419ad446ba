#!/usr/bin/env python3
"""Records fw_cfg answers from Debian's QEMU 7.2 through the qtest protocol.

Run from this folder: python3 record-qemu.py [NAME...] (names in RECORDINGS). Writes
- q35-fwcfg.qtest, virt-fwcfg.qtest: a header, then '> command' / '< answer'
  line pairs; the tests replay the commands against viommu's fw_cfg models
  (with the same file names and sizes as QEMU's directory) and compare;
- q35-acpi/, virt-acpi/: QEMU's ACPI tables as SIG.dat (checksums applied,
  pointers left as blob offsets) and its table-loader commands as text;
- virt-qemu.dtb, pseries-qemu.dtb: `-machine dumpdtb` output, re-packed by dtc.
The tests never run QEMU.
"""
import subprocess
import base64
import os
import struct

def run(argv, cmds):
    # QEMU does not exit at the end of its qtest input: read one answer per
    # command, then terminate it.
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    answers = []
    for cmd in cmds:
        p.stdin.write(cmd + '\n')
        p.stdin.flush()
        line = p.stdout.readline()
        while line.startswith('IRQ'):
            line = p.stdout.readline()
        answers.append(line.rstrip('\n'))
    p.terminate()
    p.wait()
    return answers

def version(binary):
    return subprocess.run([binary, '--version'], capture_output=True, text=True).stdout.splitlines()[0]

def be32(v):
    return struct.pack('>I', v).hex()

def dma_desc(control, length, address):
    return '0x' + (struct.pack('>IIQ', control, length, address)).hex()

def write(name, binary, argv, cmds, notes):
    ans = run(argv, cmds)
    with open(name, 'w') as f:
        f.write(f'# {version(binary)}\n')
        f.write('# command: ' + ' '.join(argv) + '\n')
        for n in notes:
            f.write(f'# {n}\n')
        for c, a in zip(cmds, ans):
            f.write(f'> {c}\n< {a}\n')

SELECT, READ, SKIP, WRITE = 0x08, 0x02, 0x04, 0x10
DIR_LEN = 4 + 64 * 32

def q35():
    binary = 'qemu-system-x86_64'
    argv = [binary, '-M', 'q35', '-nodefaults', '-display', 'none', '-qtest', 'stdio']
    c = []
    # Signature, id and the directory header through the data port.
    c += ['outw 0x510 0x0'] + ['inb 0x511'] * 6
    c += ['outw 0x510 0x1'] + ['inb 0x511'] * 6
    c += ['outw 0x510 0x19'] + ['inb 0x511'] * 12
    # The combined port: 1-byte reads at 0x510 read data too; other shapes are refused.
    c += ['outw 0x510 0x0', 'inb 0x510', 'inb 0x511', 'inw 0x510', 'inl 0x510', 'inb 0x511']
    c += ['outb 0x510 0x1', 'inb 0x511', 'outl 0x510 0x1', 'inb 0x511']
    # An invalid selector reads zeros.
    c += ['outw 0x510 0x3fff', 'inb 0x511', 'outw 0x510 0x20', 'inb 0x511']
    # The DMA register reads "QEMU CFG".
    c += ['inl 0x514', 'inl 0x518', 'inb 0x514', 'inb 0x51b', 'inw 0x516']
    # DMA: select the directory and read all of it into RAM at 0x2000.
    c += ['write 0x1000 0x10 ' + dma_desc((0x19 << 16) | SELECT | READ, DIR_LEN, 0x2000),
          'outl 0x514 0x0', 'outl 0x518 0x' + be32(0x1000)[6:8] + be32(0x1000)[4:6] + be32(0x1000)[2:4] + be32(0x1000)[0:2],
          'read 0x1000 0x4', 'read 0x2000 0x' + format(DIR_LEN, 'x')]
    # DMA: select the signature, skip 1, read 6 (past the end reads zeros).
    c += ['write 0x3000 0x8 0x5555555555555555',
          'write 0x1000 0x10 ' + dma_desc((0x0 << 16) | SELECT | SKIP, 1, 0),
          'outl 0x514 0x0', 'outl 0x518 0x00100000',
          'write 0x1000 0x10 ' + dma_desc(READ, 6, 0x3000),
          'outl 0x514 0x0', 'outl 0x518 0x00100000',
          'read 0x1000 0x4', 'read 0x3000 0x8']
    # DMA write to a read-only item sets the error bit.
    c += ['write 0x1000 0x10 ' + dma_desc((0x0 << 16) | SELECT | WRITE, 2, 0x3000),
          'outl 0x514 0x0', 'outl 0x518 0x00100000', 'read 0x1000 0x4']
    write('q35-fwcfg.qtest', binary, argv, c, [
        'fw_cfg I/O-port variant: selector 0x510 (le16), data 0x511, DMA 0x514 (be64 address).',
        f'DMA access structs at 0x1000 (be32 control, be32 length, be64 address); directory read is {DIR_LEN} bytes.'])

def virt():
    binary = 'qemu-system-aarch64'
    argv = [binary, '-M', 'virt', '-nodefaults', '-display', 'none', '-qtest', 'stdio']
    b = 0x9020000
    c = []
    # Selector is big-endian: qtest writew stores little-endian, so 0x1900 selects 0x19.
    c += [f'writew 0x{b+8:x} 0x0000'] + [f'readb 0x{b:x}'] * 5
    c += [f'writew 0x{b+8:x} 0x0000', f'readw 0x{b:x}', f'readl 0x{b:x}', f'readq 0x{b:x}']
    c += [f'writew 0x{b+8:x} 0x0100', f'readl 0x{b:x}', f'readl 0x{b:x}']
    c += [f'writew 0x{b+8:x} 0x1900', f'readl 0x{b:x}', f'readq 0x{b:x}', f'readq 0x{b:x}', f'readq 0x{b:x}']
    # Shapes the data and selector registers refuse.
    c += [f'writew 0x{b+8:x} 0x0000', f'readb 0x{b+1:x}', f'readb 0x{b:x}', f'writel 0x{b+8:x} 0x01000000',
          f'readb 0x{b:x}', f'writeb 0x{b+8:x} 0x01', f'readb 0x{b:x}', f'readw 0x{b+8:x}']
    # The DMA register reads "QEMU CFG".
    c += [f'readq 0x{b+16:x}', f'readl 0x{b+16:x}', f'readl 0x{b+20:x}', f'readb 0x{b+16:x}']
    desc = 0x40001000
    swapped = '0x' + struct.pack('>Q', int.from_bytes(struct.pack('>Q', desc), 'little')).hex()
    c += [f'write 0x{desc:x} 0x10 ' + dma_desc((0x19 << 16) | SELECT | READ, DIR_LEN, 0x40002000),
          f'writeq 0x{b+16:x} {swapped}', f'read 0x{desc:x} 0x4', f'read 0x40002000 0x{DIR_LEN:x}']
    # Two 4-byte writes: high then low; the low one starts the transfer.
    c += ['write 0x40003000 0x8 0x5555555555555555',
          f'write 0x{desc:x} 0x10 ' + dma_desc((0x1 << 16) | SELECT | READ, 6, 0x40003000),
          f'writel 0x{b+16:x} 0x0', f'writel 0x{b+20:x} 0x{int.from_bytes(struct.pack(">I", desc), "little"):08x}',
          f'read 0x{desc:x} 0x4', 'read 0x40003000 0x8']
    write('virt-fwcfg.qtest', binary, argv, c, [
        'fw_cfg MMIO variant at 0x9020000: data +0 (1..8 bytes, string order), selector +8 (be16), DMA +16 (be64).',
        f'DMA access structs at 0x40001000; directory read is {DIR_LEN} bytes.'])


def dma_read(q, kind, ram, sel, length, dst):
    """Reads a whole fw_cfg item into guest RAM through the DMA interface."""
    desc = ram + 0x1000
    q_write = f'write 0x{desc:x} 0x10 ' + dma_desc((sel << 16) | SELECT | READ, length, dst)
    answers = [q(q_write)]
    if kind == 'io':
        answers += [q('outl 0x514 0x0'), q('outl 0x518 0x%08x' % int.from_bytes(struct.pack('>I', desc), 'little'))]
    else:
        answers += [q('writeq 0x9020010 0x%016x' % int.from_bytes(struct.pack('>Q', desc), 'little'))]
    r = q(f'b64read 0x{dst:x} 0x{length:x}')
    return base64.b64decode(r.split()[1])

def acpi_tables(argv, kind, ram, setup, outdir):
    """Dumps etc/acpi/tables and etc/table-loader, applies the loader's
    checksums (pointers stay blob offsets) and writes each table as SIG.dat."""
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    def q(cmd):
        p.stdin.write(cmd + '\n')
        p.stdin.flush()
        return p.stdout.readline().strip()
    for c in setup:
        q(c)
    d = dma_read(q, kind, ram, 0x19, DIR_LEN, ram + 0x2000)
    files = {}
    for k in range(struct.unpack('>I', d[:4])[0]):
        e = d[4 + 64 * k:68 + 64 * k]
        size, sel = struct.unpack('>IH', e[:6])
        files[e[8:].rstrip(b'\0').decode()] = (sel, size)
    blobs = {n: dma_read(q, kind, ram, *files[n], ram + 0x100000) for n in ['etc/acpi/tables', 'etc/table-loader', 'etc/acpi/rsdp']}
    p.terminate()
    p.wait()
    os.makedirs(outdir, exist_ok=True)
    t = bytearray(blobs['etc/acpi/tables'])
    ld = blobs['etc/table-loader']
    lines = []
    for i in range(0, len(ld), 128):
        c = ld[i:i + 128]
        cmd = struct.unpack('<I', c[:4])[0]
        name = lambda a: c[a:a + 56].rstrip(b'\0').decode()
        if cmd == 1:
            lines.append(f'ALLOCATE {name(4)} align={struct.unpack("<I", c[60:64])[0]} zone={c[64]}')
        elif cmd == 2:
            lines.append(f'ADD_POINTER {name(4)} {name(60)} offset=0x{struct.unpack("<I", c[116:120])[0]:x} size={c[120]}')
        elif cmd == 3:
            off, start, length = struct.unpack('<III', c[60:72])
            lines.append(f'ADD_CHECKSUM {name(4)} offset=0x{off:x} start=0x{start:x} length=0x{length:x}')
            if name(4) == 'etc/acpi/tables':
                t[off] = 0
                t[off] = (-sum(t[start:start + length])) & 0xff
                open(f'{outdir}/{t[start:start + 4].decode()}.dat', 'wb').write(t[start:start + length])
    if t[0:4] == b'FACS':
        open(f'{outdir}/FACS.dat', 'wb').write(t[0:64])
    with open(f'{outdir}/table-loader.txt', 'w') as f:
        f.write(f'# {version(argv[0])}\n# command: {" ".join(argv)}\n')
        f.write(f'# qtest set-up before the first ACPI select: {"; ".join(setup) or "none"}\n')
        f.write(f'# etc/acpi/rsdp: {blobs["etc/acpi/rsdp"].hex()}\n')
        f.write('\n'.join(lines) + '\n')

def dtb(argv, out):
    subprocess.run(argv + ['-machine', 'dumpdtb=/tmp/viommu-record.dtb'], capture_output=True, check=True)
    # QEMU pads the blob to its buffer size; dtc re-packs it with the same node and property order.
    subprocess.run(['dtc', '-q', '-I', 'dtb', '-O', 'dtb', '-o', out, '/tmp/viommu-record.dtb'], check=True)

VIOMMU_DATA = '../../../iommu/virtio-iommu/data/'

RECORDINGS = {
    'q35-fwcfg': q35,
    'virt-fwcfg': virt,
    # SeaBIOS programs PCIEXBAR (MMCONFIG at 0xb0000000, 256 buses) before it reads
    # the tables; without that QEMU's q35 has no MCFG.
    'q35-acpi': lambda: acpi_tables(['qemu-system-x86_64', '-M', 'q35', '-nodefaults', '-display', 'none', '-qtest', 'stdio'], 'io', 0,
                                    ['outl 0xcf8 0x80000064', 'outl 0xcfc 0x0', 'outl 0xcf8 0x80000060', 'outl 0xcfc 0xb0000001'], 'q35-acpi'),
    # intel-iommu: the DMAR table (and the rest) as QEMU 7.2 builds it (test/machine/firmware/dmar.test.ts).
    'q35-vtd-edu-acpi': lambda: acpi_tables(['qemu-system-x86_64', '-M', 'q35', '-nodefaults', '-display', 'none', '-device', 'intel-iommu',
                                             '-device', 'edu', '-qtest', 'stdio'], 'io', 0,
                                            ['outl 0xcf8 0x80000064', 'outl 0xcfc 0x0', 'outl 0xcf8 0x80000060', 'outl 0xcfc 0xb0000001'],
                                            'q35-vtd-edu-acpi'),
    'q35-vtd-dt-rp-acpi': lambda: acpi_tables(['qemu-system-x86_64', '-M', 'q35', '-nodefaults', '-display', 'none', '-device',
                                               'intel-iommu,device-iotlb=on,aw-bits=48,intremap=off', '-device',
                                               'pcie-root-port,id=rp0,chassis=1,addr=03.0', '-device', 'edu,bus=rp0', '-device', 'edu,addr=05.0',
                                               '-qtest', 'stdio'], 'io', 0,
                                              ['outl 0xcf8 0x80000064', 'outl 0xcfc 0x0', 'outl 0xcf8 0x80000060', 'outl 0xcfc 0xb0000001',
                                               'outl 0xcf8 0x80001818', 'outl 0xcfc 0x00010100'],
                                              'q35-vtd-dt-rp-acpi'),
    'virt-acpi': lambda: acpi_tables(['qemu-system-aarch64', '-M', 'virt', '-nodefaults', '-display', 'none', '-qtest', 'stdio'], 'mmio',
                                     0x40000000, [], 'virt-acpi'),
    # virt with the SMMUv3 (src/machine/firmware/acpi/tables/iort.ts, fdt/smmuv3-fdt.ts); the second has a root port whose
    # secondary bus (1) the "firmware" numbered before the first ACPI select, so the IORT sends RIDs of buses 0-1 to the SMMU.
    'virt-smmuv3-acpi': lambda: acpi_tables(['qemu-system-aarch64', '-M', 'virt,iommu=smmuv3', '-nodefaults', '-display', 'none',
                                             '-qtest', 'stdio'], 'mmio', 0x40000000, [], 'virt-smmuv3-acpi'),
    'virt-smmuv3-rp-acpi': lambda: acpi_tables(['qemu-system-aarch64', '-M', 'virt,iommu=smmuv3', '-nodefaults', '-display', 'none',
                                                '-device', 'pcie-root-port,id=rp0,chassis=1,addr=2', '-device', 'edu,bus=rp0',
                                                '-qtest', 'stdio'], 'mmio', 0x40000000, ['writel 0x4010010018 0x00010100'],
                                               'virt-smmuv3-rp-acpi'),
    'virt-smmuv3-edu-dtb': lambda: dtb(['qemu-system-aarch64', '-M', 'virt,iommu=smmuv3', '-nodefaults', '-display', 'none',
                                        '-device', 'edu'], 'virt-smmuv3-edu-qemu.dtb'),
    'virt-dtb': lambda: dtb(['qemu-system-aarch64', '-M', 'virt', '-nodefaults', '-display', 'none'], 'virt-qemu.dtb'),
    'pseries-dtb': lambda: dtb(['qemu-system-ppc64', '-M', 'pseries', '-nodefaults', '-display', 'none'], 'pseries-qemu.dtb'),
    # The command lines the built-machine tests use (test/machine/firmware/built-machine.test.ts).
    'virt-edu-dtb': lambda: dtb(['qemu-system-aarch64', '-M', 'virt', '-nodefaults', '-display', 'none', '-device', 'edu'], 'virt-edu-qemu.dtb'),
    'virt-lowecam-dtb': lambda: dtb(['qemu-system-aarch64', '-M', 'virt,highmem=off', '-m', '1G', '-nodefaults', '-display', 'none',
                                      '-device', 'edu'], 'virt-lowecam-qemu.dtb'),
    'pseries-edu-dtb': lambda: dtb(['qemu-system-ppc64', '-M', 'pseries', '-nodefaults', '-display', 'none', '-device', 'edu'],
                                   'pseries-edu-qemu.dtb'),
    # virtio-iommu topology descriptions (test/iommu/virtio-iommu/firmware.test.ts).
    'q35-viommu-acpi': lambda: acpi_tables(['qemu-system-x86_64', '-M', 'q35', '-nodefaults', '-display', 'none', '-device',
                                            'virtio-iommu-pci', '-device', 'edu', '-qtest', 'stdio'], 'io', 0,
                                           ['outl 0xcf8 0x80000064', 'outl 0xcfc 0x0', 'outl 0xcf8 0x80000060', 'outl 0xcfc 0xb0000001'],
                                           VIOMMU_DATA + 'q35-viommu-acpi'),
    'virt-viommu-acpi': lambda: acpi_tables(['qemu-system-aarch64', '-M', 'virt', '-nodefaults', '-display', 'none', '-device',
                                             'virtio-iommu-pci', '-device', 'edu', '-qtest', 'stdio'], 'mmio', 0x40000000, [],
                                            VIOMMU_DATA + 'virt-viommu-acpi'),
    'virt-viommu-dtb': lambda: dtb(['qemu-system-aarch64', '-M', 'virt', '-nodefaults', '-display', 'none', '-device', 'virtio-iommu-pci',
                                    '-device', 'edu'], VIOMMU_DATA + 'virt-viommu-edu-qemu.dtb'),
}

# python3 record-qemu.py [NAME...]: every recording, or the named ones (QEMU's
# device trees carry random rng-seed / kaslr-seed values, so re-recording all
# changes those bytes; the tests do not compare them).
import sys
for name in sys.argv[1:] or RECORDINGS:
    RECORDINGS[name]()
