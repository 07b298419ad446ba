import type { FwCfg } from '../fw-cfg/fw-cfg.js';
import { ACPI_BUILD_LOADER_FILE, ACPI_BUILD_RSDP_FILE, ACPI_BUILD_TABLE_FILE } from '../fw-cfg/fw-cfg-keys.js';
import type { AcpiBlobs } from './acpi-build.js';

/**
 * The ACPI files in fw_cfg as QEMU serves them (hw/i386/acpi-build.c
 * acpi_setup / acpi_build_update, same on virt): built once when the machine
 * is created so the directory has sizes, rebuilt when the firmware first
 * selects any of them after a reset, so bus numbers and devices reflect what
 * the firmware programmed by then.
 */
export class AcpiFwCfgFiles {
  private patched = false;

  constructor(private readonly fw: FwCfg, private readonly build: () => AcpiBlobs) {
    const b = build();
    const update = (): void => this.update();
    fw.addFile(ACPI_BUILD_TABLE_FILE, b.tables, { onSelect: update });
    fw.addFile(ACPI_BUILD_LOADER_FILE, b.loader, { onSelect: update });
    fw.addFile(ACPI_BUILD_RSDP_FILE, b.rsdp, { onSelect: update });
  }

  /** Machine reset: the next select rebuilds (build_state->patched = 0). */
  reset(): void {
    this.patched = false;
  }

  /** What a firmware reading the files now gets (rebuilt first if not yet since reset), without changing the selection. */
  current(): AcpiBlobs {
    this.update();
    const file = (name: string): Uint8Array => this.fw.file(name)!;
    return { tables: file(ACPI_BUILD_TABLE_FILE), rsdp: file(ACPI_BUILD_RSDP_FILE), loader: file(ACPI_BUILD_LOADER_FILE) };
  }

  private update(): void {
    if (this.patched) return;
    this.patched = true;
    const b = this.build();
    this.fw.setFileData(ACPI_BUILD_TABLE_FILE, b.tables);
    this.fw.setFileData(ACPI_BUILD_LOADER_FILE, b.loader);
    this.fw.setFileData(ACPI_BUILD_RSDP_FILE, b.rsdp);
  }
}
