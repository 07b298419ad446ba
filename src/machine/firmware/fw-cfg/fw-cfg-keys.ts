/**
 * fw_cfg selector keys and DMA control bits (QEMU include/standard-headers/
 * linux/qemu_fw_cfg.h, docs/specs/fw_cfg.rst).
 */
export const FW_CFG_SIGNATURE = 0x00;
export const FW_CFG_ID = 0x01;
export const FW_CFG_UUID = 0x02;
export const FW_CFG_RAM_SIZE = 0x03;
export const FW_CFG_NOGRAPHIC = 0x04;
export const FW_CFG_NB_CPUS = 0x05;
export const FW_CFG_MACHINE_ID = 0x06;
export const FW_CFG_BOOT_MENU = 0x0e;
export const FW_CFG_MAX_CPUS = 0x0f;
export const FW_CFG_FILE_DIR = 0x19;
/** The first file selector; files take FILE_FIRST + their sorted index. */
export const FW_CFG_FILE_FIRST = 0x20;
export const FW_CFG_WRITE_CHANNEL = 0x4000;
export const FW_CFG_ARCH_LOCAL = 0x8000;
export const FW_CFG_ENTRY_MASK = ~(FW_CFG_WRITE_CHANNEL | FW_CFG_ARCH_LOCAL) & 0xffff;
export const FW_CFG_INVALID = 0xffff;

/** QEMU's default number of file slots (FW_CFG_FILE_SLOTS_DFLT). */
export const FW_CFG_FILE_SLOTS_DFLT = 0x20;
/** Bytes of one directory entry: be32 size, be16 select, be16 reserved, name[56]. */
export const FW_CFG_FILE_ENTRY_SIZE = 64;
export const FW_CFG_MAX_FILE_PATH = 56;

/** FW_CFG_ID feature bits. */
export const FW_CFG_VERSION = 0x01;
export const FW_CFG_VERSION_DMA = 0x02;

/** FWCfgDmaAccess.control bits (be32 control, be32 length, be64 address). */
export const FW_CFG_DMA_CTL_ERROR = 0x01;
export const FW_CFG_DMA_CTL_READ = 0x02;
export const FW_CFG_DMA_CTL_SKIP = 0x04;
export const FW_CFG_DMA_CTL_SELECT = 0x08;
export const FW_CFG_DMA_CTL_WRITE = 0x10;
/** Bytes of FWCfgDmaAccess. */
export const FW_CFG_DMA_ACCESS_SIZE = 16;

/** What the DMA register reads: "QEMU CFG" (FW_CFG_DMA_SIGNATURE). */
export const FW_CFG_DMA_SIGNATURE = 'QEMU CFG';

/** x86 arch-local keys (QEMU hw/i386/fw_cfg.h). */
export const FW_CFG_ACPI_TABLES = FW_CFG_ARCH_LOCAL + 0;
export const FW_CFG_SMBIOS_ENTRIES = FW_CFG_ARCH_LOCAL + 1;
export const FW_CFG_IRQ0_OVERRIDE = FW_CFG_ARCH_LOCAL + 2;
export const FW_CFG_E820_TABLE = FW_CFG_ARCH_LOCAL + 3;
export const FW_CFG_HPET = FW_CFG_ARCH_LOCAL + 4;

/** Well-known fw_cfg file names used by the ACPI hand-off (hw/acpi/aml-build.h). */
export const ACPI_BUILD_TABLE_FILE = 'etc/acpi/tables';
export const ACPI_BUILD_RSDP_FILE = 'etc/acpi/rsdp';
export const ACPI_BUILD_LOADER_FILE = 'etc/table-loader';
