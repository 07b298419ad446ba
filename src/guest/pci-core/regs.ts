/**
 * PCI configuration space registers, written from the specifications:
 * PCI Local Bus Specification 3.0 section 6.1-6.8 (type 0/1 headers, BARs,
 * capability list, MSI, MSI-X), PCI-to-PCI Bridge Architecture
 * Specification 1.2 chapter 3 (type 1 header), PCI Express Base
 * Specification 4.0 chapter 7 (PCIe capability, extended capabilities ACS
 * 7.7.7, ATS 10.5.1, PASID 7.8.8) and virtio 1.2 section 4.1.4 (vendor
 * capabilities).
 */
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_COMMAND_IO = 0x1;
export const PCI_COMMAND_MEMORY = 0x2;
export const PCI_COMMAND_MASTER = 0x4;
export const PCI_COMMAND_INTX_DISABLE = 0x400;
export const PCI_STATUS = 0x06;
export const PCI_STATUS_CAP_LIST = 0x10;
export const PCI_REVISION_ID = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_CLASS_DEVICE = 0x0a;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_HEADER_TYPE_MASK = 0x7f;
export const PCI_HEADER_TYPE_MULTIFUNCTION = 0x80;
export const PCI_HEADER_TYPE_NORMAL = 0;
export const PCI_HEADER_TYPE_BRIDGE = 1;
export const PCI_BASE_ADDRESS_0 = 0x10;
export const PCI_BASE_ADDRESS_SPACE_IO = 0x1;
export const PCI_BASE_ADDRESS_MEM_TYPE_MASK = 0x6;
export const PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x4;
export const PCI_BASE_ADDRESS_MEM_PREFETCH = 0x8;
export const PCI_BASE_ADDRESS_MEM_MASK = 0xfffffff0;
export const PCI_BASE_ADDRESS_IO_MASK = 0xfffffffc;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_ROM_ADDRESS = 0x30;
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;

/** Type 1 (bridge) header. */
export const PCI_PRIMARY_BUS = 0x18;
export const PCI_SECONDARY_BUS = 0x19;
export const PCI_SUBORDINATE_BUS = 0x1a;
export const PCI_IO_BASE = 0x1c;
export const PCI_IO_LIMIT = 0x1d;
export const PCI_IO_RANGE_TYPE_32 = 0x01;
export const PCI_MEMORY_BASE = 0x20;
export const PCI_MEMORY_LIMIT = 0x22;
export const PCI_PREF_MEMORY_BASE = 0x24;
export const PCI_PREF_MEMORY_LIMIT = 0x26;
export const PCI_PREF_RANGE_TYPE_64 = 0x01;
export const PCI_PREF_BASE_UPPER32 = 0x28;
export const PCI_PREF_LIMIT_UPPER32 = 0x2c;
export const PCI_IO_BASE_UPPER16 = 0x30;
export const PCI_IO_LIMIT_UPPER16 = 0x32;
export const PCI_ROM_ADDRESS1 = 0x38;
export const PCI_BRIDGE_CONTROL = 0x3e;

/** Capability IDs (PCI Code and ID Assignment Specification 1.11, chapter 2). */
export const PCI_CAP_ID_PM = 0x01;
export const PCI_CAP_ID_MSI = 0x05;
export const PCI_CAP_ID_VNDR = 0x09;
export const PCI_CAP_ID_EXP = 0x10;
export const PCI_CAP_ID_MSIX = 0x11;
/** Linux PCI_FIND_CAP_TTL: a capability list longer than this is a loop. */
export const PCI_FIND_CAP_TTL = 48;

/** MSI capability (PCI 3.0 section 6.8.1). */
export const PCI_MSI_FLAGS = 0x02;
export const PCI_MSI_FLAGS_ENABLE = 0x0001;
export const PCI_MSI_FLAGS_QMASK = 0x000e;
export const PCI_MSI_FLAGS_QSIZE = 0x0070;
export const PCI_MSI_FLAGS_64BIT = 0x0080;
export const PCI_MSI_FLAGS_MASKBIT = 0x0100;
export const PCI_MSI_ADDRESS_LO = 0x04;
export const PCI_MSI_ADDRESS_HI = 0x08;
export const PCI_MSI_DATA_32 = 0x08;
export const PCI_MSI_DATA_64 = 0x0c;

/** MSI-X capability (PCI 3.0 section 6.8.2). */
export const PCI_MSIX_FLAGS = 0x02;
export const PCI_MSIX_FLAGS_QSIZE = 0x07ff;
export const PCI_MSIX_FLAGS_ENABLE = 0x8000;
export const PCI_MSIX_FLAGS_MASKALL = 0x4000;
export const PCI_MSIX_TABLE = 0x04;
export const PCI_MSIX_PBA = 0x08;
export const PCI_MSIX_BIR_MASK = 0x7;
/** MSI-X table entry (PCI 3.0 section 6.8.2.6-6.8.2.9): address lo +0, hi +4, data +8, vector control +12 (mask bit 0). */
export const PCI_MSIX_ENTRY_SIZE = 16;
export const PCI_MSIX_ENTRY_LOWER_ADDR = 0x0;
export const PCI_MSIX_ENTRY_UPPER_ADDR = 0x4;
export const PCI_MSIX_ENTRY_DATA = 0x8;
export const PCI_MSIX_ENTRY_VECTOR_CTRL = 0xc;
export const PCI_MSIX_ENTRY_CTRL_MASKBIT = 0x1;

/** PCI Express capability (PCIe 4.0 section 7.5.3). */
export const PCI_EXP_FLAGS = 0x02;
export const PCI_EXP_FLAGS_TYPE = 0x00f0;
export const PCI_EXP_TYPE_ENDPOINT = 0x0;
export const PCI_EXP_TYPE_LEG_END = 0x1;
export const PCI_EXP_TYPE_ROOT_PORT = 0x4;
export const PCI_EXP_TYPE_UPSTREAM = 0x5;
export const PCI_EXP_TYPE_DOWNSTREAM = 0x6;
/** PCI Express to PCI/PCI-X bridge. */
export const PCI_EXP_TYPE_PCI_BRIDGE = 0x7;
/** PCI/PCI-X to PCI Express bridge. */
export const PCI_EXP_TYPE_PCIE_BRIDGE = 0x8;
export const PCI_EXP_TYPE_RC_END = 0x9;
export const PCI_EXP_TYPE_RC_EC = 0xa;
export const PCI_EXP_FLAGS_SLOT = 0x0100;
export const PCI_EXP_DEVCAP = 0x04;
export const PCI_EXP_DEVCTL = 0x08;
export const PCI_EXP_LNKCAP = 0x0c;
/** Data Link Layer Link Active Reporting Capable (PCIe 4.0 section 7.5.3.6). */
export const PCI_EXP_LNKCAP_DLLLARC = 0x0010_0000;
export const PCI_EXP_LNKSTA = 0x12;
/** Data Link Layer Link Active (PCIe 4.0 section 7.5.3.8). */
export const PCI_EXP_LNKSTA_DLLLA = 0x2000;
export const PCI_EXP_SLTCAP = 0x14;
export const PCI_EXP_SLTCTL = 0x18;
export const PCI_EXP_SLTSTA = 0x1a;
export const PCI_EXP_SLTCAP2 = 0x34;

/**
 * Slot Capabilities (PCIe 4.0 section 7.5.3.9): Attention Button Present [0],
 * Power Controller Present [1], MRL Sensor Present [2], Attention / Power
 * Indicator Present [3] / [4], Hot-Plug Surprise [5], Hot-Plug Capable [6],
 * Electromechanical Interlock Present [17], No Command Completed Support
 * [18], Physical Slot Number [31:19].
 */
export const PCI_EXP_SLTCAP_ABP = 0x0000_0001;
export const PCI_EXP_SLTCAP_PCP = 0x0000_0002;
export const PCI_EXP_SLTCAP_MRLSP = 0x0000_0004;
export const PCI_EXP_SLTCAP_AIP = 0x0000_0008;
export const PCI_EXP_SLTCAP_PIP = 0x0000_0010;
export const PCI_EXP_SLTCAP_HPS = 0x0000_0020;
export const PCI_EXP_SLTCAP_HPC = 0x0000_0040;
export const PCI_EXP_SLTCAP_EIP = 0x0002_0000;
export const PCI_EXP_SLTCAP_NCCS = 0x0004_0000;
export const PCI_EXP_SLTCAP_PSN_SHIFT = 19;
/** Slot Capabilities 2 (PCIe 4.0 section 7.5.3.20): In-Band PD Disable Supported [0]. */
export const PCI_EXP_SLTCAP2_IBPD = 0x0001;

/**
 * Slot Control (PCIe 4.0 section 7.5.3.10): event enables ABPE [0], PFDE [1],
 * MRLSCE [2], PDCE [3], CCIE [4], HPIE [5]; Attention Indicator Control
 * [7:6] and Power Indicator Control [9:8] (01b on, 10b blink, 11b off);
 * Power Controller Control [10] (1b: power off); EIC [11]; DLLSCE [12].
 */
export const PCI_EXP_SLTCTL_ABPE = 0x0001;
export const PCI_EXP_SLTCTL_PFDE = 0x0002;
export const PCI_EXP_SLTCTL_MRLSCE = 0x0004;
export const PCI_EXP_SLTCTL_PDCE = 0x0008;
export const PCI_EXP_SLTCTL_CCIE = 0x0010;
export const PCI_EXP_SLTCTL_HPIE = 0x0020;
export const PCI_EXP_SLTCTL_AIC = 0x00c0;
export const PCI_EXP_SLTCTL_ATTN_IND_ON = 0x0040;
export const PCI_EXP_SLTCTL_ATTN_IND_BLINK = 0x0080;
export const PCI_EXP_SLTCTL_ATTN_IND_OFF = 0x00c0;
export const PCI_EXP_SLTCTL_PIC = 0x0300;
export const PCI_EXP_SLTCTL_PWR_IND_ON = 0x0100;
export const PCI_EXP_SLTCTL_PWR_IND_BLINK = 0x0200;
export const PCI_EXP_SLTCTL_PWR_IND_OFF = 0x0300;
export const PCI_EXP_SLTCTL_PCC = 0x0400;
export const PCI_EXP_SLTCTL_PWR_ON = 0x0000;
export const PCI_EXP_SLTCTL_PWR_OFF = 0x0400;
export const PCI_EXP_SLTCTL_EIC = 0x0800;
export const PCI_EXP_SLTCTL_DLLSCE = 0x1000;

/**
 * Slot Status (PCIe 4.0 section 7.5.3.11), RW1C events: Attention Button
 * Pressed [0], Power Fault Detected [1], MRL Sensor Changed [2], Presence
 * Detect Changed [3], Command Completed [4], Data Link Layer State Changed
 * [8]; read-only state: MRL Sensor State [5], Presence Detect State [6],
 * Electromechanical Interlock Status [7].
 */
export const PCI_EXP_SLTSTA_ABP = 0x0001;
export const PCI_EXP_SLTSTA_PFD = 0x0002;
export const PCI_EXP_SLTSTA_MRLSC = 0x0004;
export const PCI_EXP_SLTSTA_PDC = 0x0008;
export const PCI_EXP_SLTSTA_CC = 0x0010;
export const PCI_EXP_SLTSTA_MRLSS = 0x0020;
export const PCI_EXP_SLTSTA_PDS = 0x0040;
export const PCI_EXP_SLTSTA_EIS = 0x0080;
export const PCI_EXP_SLTSTA_DLLSC = 0x0100;

/** Extended capabilities start at 0x100 (PCIe 4.0 section 7.6.3): header = ID[15:0], version[19:16], next[31:20]. */
export const PCI_CFG_SPACE_SIZE = 0x100;
export const PCI_CFG_SPACE_EXP_SIZE = 0x1000;
export const PCI_EXT_CAP_ID_ACS = 0x000d;
export const PCI_EXT_CAP_ID_ATS = 0x000f;
export const PCI_EXT_CAP_ID_PRI = 0x0013;
export const PCI_EXT_CAP_ID_PASID = 0x001b;
/** Linux: (4096 - 256) / 8 headers at most. */
export const PCI_EXT_CAP_TTL = (PCI_CFG_SPACE_EXP_SIZE - PCI_CFG_SPACE_SIZE) / 8;

/** ACS (PCIe 4.0 section 7.7.7): capability register at +4, control at +6, same bit positions. */
export const PCI_ACS_CAP = 0x04;
export const PCI_ACS_CTRL = 0x06;
export const PCI_ACS_SV = 0x0001;
export const PCI_ACS_TB = 0x0002;
export const PCI_ACS_RR = 0x0004;
export const PCI_ACS_CR = 0x0008;
export const PCI_ACS_UF = 0x0010;
export const PCI_ACS_EC = 0x0020;
export const PCI_ACS_DT = 0x0040;

/** ATS (PCIe 4.0 section 10.5.1): capability at +4 (invalidate queue depth [4:0], page aligned request [5]), control at +6 (STU [4:0], enable [15]). */
export const PCI_ATS_CAP = 0x04;
export const PCI_ATS_CTRL = 0x06;
export const PCI_ATS_CTRL_ENABLE = 0x8000;
export const PCI_ATS_CTRL_STU_MASK = 0x001f;
export const PCI_ATS_MIN_STU = 12;

/** PASID (PCIe 4.0 section 7.8.8): capability at +4 (exec [1], priv [2], max width [12:8]), control at +6 (enable [0], exec [1], priv [2]). */
export const PCI_PASID_CAP = 0x04;
export const PCI_PASID_CTRL = 0x06;
export const PCI_PASID_CAP_EXEC = 0x0002;
export const PCI_PASID_CAP_PRIV = 0x0004;
export const PCI_PASID_CTRL_ENABLE = 0x0001;

/** virtio PCI capability (virtio 1.2 section 4.1.4): cfg_type at +3, bar +4, id +5, offset u32 +8, length u32 +12, notify_off_multiplier u32 +16. */
export const VIRTIO_PCI_CAP_CFG_TYPE = 3;
export const VIRTIO_PCI_CAP_BAR = 4;
export const VIRTIO_PCI_CAP_ID = 5;
export const VIRTIO_PCI_CAP_OFFSET = 8;
export const VIRTIO_PCI_CAP_LENGTH = 12;
export const VIRTIO_PCI_NOTIFY_CAP_MULT = 16;
export const VIRTIO_PCI_CAP_COMMON_CFG = 1;
export const VIRTIO_PCI_CAP_NOTIFY_CFG = 2;
export const VIRTIO_PCI_CAP_ISR_CFG = 3;
export const VIRTIO_PCI_CAP_DEVICE_CFG = 4;
export const VIRTIO_PCI_CAP_PCI_CFG = 5;

export function devfn(slot: number, fn: number): number {
  return ((slot & 0x1f) << 3) | (fn & 7);
}
export function pciSlot(df: number): number {
  return (df >> 3) & 0x1f;
}
export function pciFunc(df: number): number {
  return df & 7;
}
/** Requester ID / BDF (PCIe 4.0 section 2.2.6.2): bus[15:8], device[7:3], function[2:0]. */
export function pciDevId(bus: number, df: number): number {
  return ((bus & 0xff) << 8) | (df & 0xff);
}
/** Linux-style "0000:00:03.0". */
export function bdfName(segment: number, bus: number, df: number): string {
  const h = (v: number, w: number): string => v.toString(16).padStart(w, '0');
  return `${h(segment, 4)}:${h(bus, 2)}:${h(pciSlot(df), 2)}.${pciFunc(df)}`;
}
