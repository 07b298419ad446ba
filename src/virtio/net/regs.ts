/**
 * virtio-net (virtio 1.2 section 5.1; Linux include/uapi/linux/virtio_net.h).
 */
export const VIRTIO_ID_NET = 1;

/** Feature bits (section 5.1.3). */
export const VIRTIO_NET_F_MTU = 3;
export const VIRTIO_NET_F_MAC = 5;
export const VIRTIO_NET_F_MRG_RXBUF = 15;
export const VIRTIO_NET_F_STATUS = 16;
export const VIRTIO_NET_F_CTRL_VQ = 17;
export const VIRTIO_NET_F_MQ = 22;

/** virtio_net_config.status bits. */
export const VIRTIO_NET_S_LINK_UP = 1;

/**
 * struct virtio_net_config (packed): mac[6] @0, status le16 @6,
 * max_virtqueue_pairs le16 @8, mtu le16 @10.
 */
export const VIRTIO_NET_CFG_MAC = 0;
export const VIRTIO_NET_CFG_STATUS = 6;
export const VIRTIO_NET_CFG_MAX_VQ_PAIRS = 8;
export const VIRTIO_NET_CFG_MTU = 10;
export const VIRTIO_NET_CFG_SIZE = 12;

/**
 * struct virtio_net_hdr_v1 (section 5.1.6): flags u8 @0, gso_type u8 @1,
 * hdr_len le16 @2, gso_size le16 @4, csum_start le16 @6, csum_offset le16 @8,
 * num_buffers le16 @10: 12 bytes, always this size with VERSION_1. Without
 * MRG_RXBUF the device sets num_buffers to 1 on receive.
 */
export const VIRTIO_NET_HDR_SIZE = 12;
export const VIRTIO_NET_HDR_NUM_BUFFERS = 10;

/** Queue indexes: receiveq1 = 0, transmitq1 = 1 (section 5.1.2). */
export const VIRTIO_NET_RX_VQ = 0;
export const VIRTIO_NET_TX_VQ = 1;

/** The largest frame the synthetic wire carries (Ethernet MTU 1500 + header 14, rounded). */
export const WIRE_MAX_FRAME = 2048;
/** QEMU's default rx_queue_size / tx_queue_size. */
export const VIRTIO_NET_QUEUE_SIZE = 256;
