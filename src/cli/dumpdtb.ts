import { dumpDtb } from '../machine/firmware/inspect.js';
import type { Machine } from '../machine/machine.js';

/**
 * `-machine dumpdtb=FILE` as QEMU 7.2 does it (softmmu/device_tree.c
 * qemu_fdt_dumpdtb): on virt and pseries, write the tree, report
 * "info: dtb dumped to FILE. Exiting." and exit 0, or report
 * "qemu_fdt_dumpdtb: Failed dumping dtb to FILE" and exit 1. q35 has the
 * property but no tree, so QEMU runs on; viommu notes that. Returns the exit
 * status, or undefined to go on.
 */
export function handleDumpDtb(m: Machine, report: (msg: string) => void): number | undefined {
  const file = m.props.str('dumpdtb');
  if (file === undefined) return undefined;
  const dtb = m.firmware.fdt;
  if (!dtb) {
    report(`note: -machine dumpdtb=${file}: ${m.boardName} has no device tree; ignored, as QEMU does`);
    return undefined;
  }
  try {
    report(`info: ${dumpDtb(file, dtb)}`);
    return 0;
  } catch {
    report(`qemu_fdt_dumpdtb: Failed dumping dtb to ${file}`);
    return 1;
  }
}
