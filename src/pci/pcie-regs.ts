/**
 * PCI Express capability and extended-capability layouts (PCIe 6.0 section
 * 7.5.3 PCI Express Capability Structure, 7.8.x / 10.5.1 for ATS, PASID,
 * ACS, AER; names as in Linux pci_regs.h and QEMU pcie_regs.h).
 */

// PCI Express Capability (PCIe 6.0 section 7.5.3), offsets from the capability.
export const PCI_EXP_FLAGS = 2;
export const PCI_EXP_FLAGS_VER2 = 0x0002;
export const PCI_EXP_FLAGS_TYPE = 0x00f0;
export const PCI_EXP_FLAGS_TYPE_SHIFT = 4;
export const PCI_EXP_FLAGS_SLOT = 0x0100;
export const PCI_EXP_DEVCAP = 4;
export const PCI_EXP_DEVCAP_RBER = 0x8000;
export const PCI_EXP_DEVCTL = 8;
export const PCI_EXP_DEVCTL_CERE = 0x1;
export const PCI_EXP_DEVCTL_NFERE = 0x2;
export const PCI_EXP_DEVCTL_FERE = 0x4;
export const PCI_EXP_DEVCTL_URRE = 0x8;
export const PCI_EXP_DEVSTA = 10;
export const PCI_EXP_DEVSTA_CED = 0x1;
export const PCI_EXP_DEVSTA_NFED = 0x2;
export const PCI_EXP_DEVSTA_FED = 0x4;
export const PCI_EXP_DEVSTA_URD = 0x8;
export const PCI_EXP_LNKCAP = 12;
export const PCI_EXP_LNKCAP_SLS = 0x0000000f;
export const PCI_EXP_LNKCAP_MLW = 0x000003f0;
export const PCI_EXP_LNKCAP_ASPMS_0S = 0x00000400;
export const PCI_EXP_LNKCAP_DLLLARC = 0x00100000;
export const PCI_EXP_LNKCAP_LBNC = 0x00200000;
export const PCI_EXP_LNKCAP_PN_SHIFT = 24;
export const PCI_EXP_LNKCTL = 16;
export const PCI_EXP_LNKSTA = 18;
export const PCI_EXP_LNKSTA_CLS = 0x000f;
export const PCI_EXP_LNKSTA_NLW = 0x03f0;
export const PCI_EXP_LNKSTA_DLLLA = 0x2000;
export const PCI_EXP_SLTCAP = 20;
export const PCI_EXP_SLTCAP_ABP = 0x00000001;
export const PCI_EXP_SLTCAP_PCP = 0x00000002;
export const PCI_EXP_SLTCAP_AIP = 0x00000008;
export const PCI_EXP_SLTCAP_PIP = 0x00000010;
export const PCI_EXP_SLTCAP_HPS = 0x00000020;
export const PCI_EXP_SLTCAP_HPC = 0x00000040;
export const PCI_EXP_SLTCAP_EIP = 0x00020000;
export const PCI_EXP_SLTCAP_PSN_SHIFT = 19;
export const PCI_EXP_SLTCAP_PSN = 0xfff80000;
export const PCI_EXP_SLTCTL = 24;
export const PCI_EXP_SLTCTL_ABPE = 0x0001;
export const PCI_EXP_SLTCTL_PDCE = 0x0008;
export const PCI_EXP_SLTCTL_CCIE = 0x0010;
export const PCI_EXP_SLTCTL_HPIE = 0x0020;
export const PCI_EXP_SLTCTL_AIC = 0x00c0;
export const PCI_EXP_SLTCTL_AIC_OFF = 0x00c0;
export const PCI_EXP_SLTCTL_PIC = 0x0300;
export const PCI_EXP_SLTCTL_PIC_ON = 0x0100;
export const PCI_EXP_SLTCTL_PIC_OFF = 0x0300;
/** Power Indicator Control 10b: blink (PCIe 6.0 section 7.5.3.10). */
export const PCI_EXP_SLTCTL_PIC_BLINK = 0x0200;
export const PCI_EXP_SLTCTL_PCC = 0x0400;
export const PCI_EXP_SLTCTL_EIC = 0x0800;
export const PCI_EXP_SLTSTA = 26;
export const PCI_EXP_SLTSTA_ABP = 0x0001;
export const PCI_EXP_SLTSTA_PFD = 0x0002;
export const PCI_EXP_SLTSTA_MRLSC = 0x0004;
export const PCI_EXP_SLTSTA_PDC = 0x0008;
export const PCI_EXP_SLTSTA_CC = 0x0010;
export const PCI_EXP_SLTSTA_PDS = 0x0040;
export const PCI_EXP_SLTSTA_EIS = 0x0080;
/** Hot-plug events QEMU reports (PCI_EXP_HP_EV_SUPPORTED): ABP, PDC, CCI. */
export const PCI_EXP_HP_EV_SUPPORTED = PCI_EXP_SLTSTA_ABP | PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_CC;
export const PCI_EXP_RTCTL = 28;
export const PCI_EXP_RTCTL_SECEE = 0x1;
export const PCI_EXP_RTCTL_SENFEE = 0x2;
export const PCI_EXP_RTCTL_SEFEE = 0x4;
export const PCI_EXP_DEVCAP2 = 36;
export const PCI_EXP_DEVCAP2_ARI = 0x00000020;
export const PCI_EXP_DEVCAP2_EFF = 0x00100000;
export const PCI_EXP_DEVCAP2_EETLPP = 0x00200000;
export const PCI_EXP_DEVCTL2 = 40;
export const PCI_EXP_DEVCTL2_ARI = 0x0020;
export const PCI_EXP_DEVCTL2_EETLPPB = 0x8000;
export const PCI_EXP_LNKCAP2 = 44;
export const PCI_EXP_LNKCAP2_SLS_2_5GB = 0x02;
export const PCI_EXP_LNKCAP2_SLS_5_0GB = 0x04;
export const PCI_EXP_LNKCAP2_SLS_8_0GB = 0x08;
export const PCI_EXP_LNKCAP2_SLS_16_0GB = 0x10;
export const PCI_EXP_LNKCTL2 = 48;
export const PCI_EXP_LNKCTL2_TLS = 0x000f;
export const PCI_EXP_VER2_SIZEOF = 0x3c;

/** Device/Port Type field values (PCIe 6.0 section 7.5.3.2). */
export const PCI_EXP_TYPE_ENDPOINT = 0x0;
export const PCI_EXP_TYPE_LEG_END = 0x1;
export const PCI_EXP_TYPE_ROOT_PORT = 0x4;
export const PCI_EXP_TYPE_UPSTREAM = 0x5;
export const PCI_EXP_TYPE_DOWNSTREAM = 0x6;
export const PCI_EXP_TYPE_PCI_BRIDGE = 0x7;
export const PCI_EXP_TYPE_RC_END = 0x9;

/** QEMU's link speed / width encodings (pcie_regs.h QEMU_PCI_EXP_LNK_*). */
export const PCIE_LINK_SPEEDS: Readonly<Record<string, number>> = { '2_5': 1, '5': 2, '8': 3, '16': 4 };
export const PCIE_LINK_WIDTHS: Readonly<Record<string, number>> = { '1': 1, '2': 2, '4': 4, '8': 8, '12': 12, '16': 16, '32': 32 };

// ATS (PCIe 6.0 section 10.5.1): capability at +4, control at +6.
export const PCI_ATS_CAP = 0x04;
export const PCI_ATS_CTRL = 0x06;
export const PCI_ATS_CTRL_ENABLE = 0x8000;
export const PCI_ATS_CTRL_STU = 0x001f;
export const PCI_EXT_CAP_ATS_SIZEOF = 8;

// PASID (PCIe 6.0 section 7.8.8): capability at +4, control at +6.
export const PCI_PASID_CAP = 0x04;
export const PCI_PASID_CAP_EXEC = 0x0002;
export const PCI_PASID_CAP_PRIV = 0x0004;
export const PCI_PASID_CTRL = 0x06;
export const PCI_PASID_CTRL_ENABLE = 0x0001;
export const PCI_PASID_CTRL_EXEC = 0x0002;
export const PCI_PASID_CTRL_PRIV = 0x0004;
export const PCI_EXT_CAP_PASID_SIZEOF = 8;

// ACS (PCIe 6.0 section 7.7.8): capability at +4, control at +6.
export const PCI_ACS_CAP = 0x04;
export const PCI_ACS_CTRL = 0x06;
export const PCI_ACS_SV = 0x01;
export const PCI_ACS_TB = 0x02;
export const PCI_ACS_RR = 0x04;
export const PCI_ACS_CR = 0x08;
export const PCI_ACS_UF = 0x10;
export const PCI_ACS_DT = 0x40;
export const PCI_ACS_SIZEOF = 8;

// AER (PCIe 6.0 section 7.8.4).
export const PCI_ERR_VER = 2;
export const PCI_ERR_SIZEOF = 0x48;
export const PCI_ERR_UNCOR_STATUS = 0x04;
export const PCI_ERR_UNCOR_MASK = 0x08;
export const PCI_ERR_UNCOR_SEVER = 0x0c;
export const PCI_ERR_COR_STATUS = 0x10;
export const PCI_ERR_COR_MASK = 0x14;
export const PCI_ERR_CAP = 0x18;
export const PCI_ERR_ROOT_COMMAND = 0x2c;
export const PCI_ERR_ROOT_STATUS = 0x30;
