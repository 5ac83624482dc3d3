// Device-specific definitions shared by drivers and devices: feature bits, configuration
// space layouts (byte offsets from VIRTIO_MMIO_CONFIG) and request headers of block, console,
// entropy (rng), network and vsock devices, with little-endian encode/decode helpers.
// Spec: virtio 1.2 §5.1 (net), §5.2 (block), §5.3 (console), §5.4 (entropy), §5.10 (vsock),
// §5.11 (file system).

// ───────────── §5.2 Block device ─────────────
export const VIRTIO_BLK_F_SIZE_MAX = 1;
export const VIRTIO_BLK_F_SEG_MAX = 2;
export const VIRTIO_BLK_F_GEOMETRY = 4;
export const VIRTIO_BLK_F_RO = 5;
export const VIRTIO_BLK_F_BLK_SIZE = 6;
export const VIRTIO_BLK_F_FLUSH = 9;
export const VIRTIO_BLK_F_TOPOLOGY = 10;
export const VIRTIO_BLK_F_CONFIG_WCE = 11;
export const VIRTIO_BLK_F_MQ = 12;
export const VIRTIO_BLK_F_DISCARD = 13;
export const VIRTIO_BLK_F_WRITE_ZEROES = 14;

/** Block queue index: one request queue (requestq1). */
export const VIRTIO_BLK_REQUESTQ = 0;
/** §5.2.6: capacity and sector are always in 512-byte units. */
export const VIRTIO_BLK_SECTOR_SIZE = 512;
/** §5.2.6: GET_ID writes a 20-byte identifier (NUL-padded, not necessarily terminated). */
export const VIRTIO_BLK_ID_BYTES = 20;

// §5.2.4 struct virtio_blk_config (offsets)
export const VIRTIO_BLK_CFG_CAPACITY = 0; // le64, in 512-byte sectors
export const VIRTIO_BLK_CFG_SIZE_MAX = 8; // le32
export const VIRTIO_BLK_CFG_SEG_MAX = 12; // le32
export const VIRTIO_BLK_CFG_GEOMETRY = 16; // le16 cylinders, u8 heads, u8 sectors
export const VIRTIO_BLK_CFG_BLK_SIZE = 20; // le32
export const VIRTIO_BLK_CFG_TOPOLOGY = 24; // u8 physical_block_exp, u8 alignment_offset, le16 min_io_size, le32 opt_io_size
export const VIRTIO_BLK_CFG_WRITEBACK = 32; // u8
export const VIRTIO_BLK_CFG_NUM_QUEUES = 34; // le16
export const VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS = 36; // le32
/** Size of the whole config struct in virtio 1.2 (through secure_erase_sector_alignment). */
export const VIRTIO_BLK_CONFIG_SIZE = 72;

// §5.2.6 struct virtio_blk_req { le32 type; le32 reserved; le64 sector; u8 data[]; u8 status; }
export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;
export const VIRTIO_BLK_T_GET_LIFETIME = 10;
export const VIRTIO_BLK_T_DISCARD = 11;
export const VIRTIO_BLK_T_WRITE_ZEROES = 13;
export const VIRTIO_BLK_T_SECURE_ERASE = 14;
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;
export const VIRTIO_BLK_REQ_TYPE = 0;
export const VIRTIO_BLK_REQ_RESERVED = 4;
export const VIRTIO_BLK_REQ_SECTOR = 8;
/** Bytes of the device-readable request header (type, reserved, sector). */
export const VIRTIO_BLK_REQ_HDR_SIZE = 16;
/** Bytes of the device-writable status trailer. */
export const VIRTIO_BLK_REQ_STATUS_SIZE = 1;

export interface VirtioBlkReqHeader {
  type: number;
  reserved: number;
  sector: bigint;
}

export function encodeBlkReqHeader(h: VirtioBlkReqHeader, out: Uint8Array = new Uint8Array(VIRTIO_BLK_REQ_HDR_SIZE)): Uint8Array {
  const v = new DataView(out.buffer, out.byteOffset, VIRTIO_BLK_REQ_HDR_SIZE);
  v.setUint32(VIRTIO_BLK_REQ_TYPE, h.type >>> 0, true);
  v.setUint32(VIRTIO_BLK_REQ_RESERVED, h.reserved >>> 0, true);
  v.setBigUint64(VIRTIO_BLK_REQ_SECTOR, BigInt.asUintN(64, h.sector), true);
  return out;
}

/** Reads a header from the first 16 bytes of `b` (caller checks the length). */
export function decodeBlkReqHeader(b: Uint8Array): VirtioBlkReqHeader {
  const v = new DataView(b.buffer, b.byteOffset, VIRTIO_BLK_REQ_HDR_SIZE);
  return { type: v.getUint32(VIRTIO_BLK_REQ_TYPE, true), reserved: v.getUint32(VIRTIO_BLK_REQ_RESERVED, true), sector: v.getBigUint64(VIRTIO_BLK_REQ_SECTOR, true) };
}

// ───────────── §5.3 Console device ─────────────
export const VIRTIO_CONSOLE_F_SIZE = 0;
export const VIRTIO_CONSOLE_F_MULTIPORT = 1;
export const VIRTIO_CONSOLE_F_EMERG_WRITE = 2;
/** §5.3.2: port 0's queues (without MULTIPORT there are only these two). */
export const VIRTIO_CONSOLE_RECEIVEQ = 0;
export const VIRTIO_CONSOLE_TRANSMITQ = 1;
// §5.3.4 struct virtio_console_config { le16 cols; le16 rows; le32 max_nr_ports; le32 emerg_wr; }
export const VIRTIO_CONSOLE_CFG_COLS = 0;
export const VIRTIO_CONSOLE_CFG_ROWS = 2;
export const VIRTIO_CONSOLE_CFG_MAX_NR_PORTS = 4;
export const VIRTIO_CONSOLE_CFG_EMERG_WR = 8;
export const VIRTIO_CONSOLE_CONFIG_SIZE = 12;

// ───────────── §5.4 Entropy device ─────────────
/** §5.4.2: one queue, requestq; no feature bits (§5.4.3) and no config (§5.4.4). */
export const VIRTIO_RNG_REQUESTQ = 0;

// ───────────── §5.1 Network device ─────────────
export const VIRTIO_NET_F_CSUM = 0;
export const VIRTIO_NET_F_GUEST_CSUM = 1;
export const VIRTIO_NET_F_CTRL_GUEST_OFFLOADS = 2;
export const VIRTIO_NET_F_MTU = 3;
export const VIRTIO_NET_F_MAC = 5;
export const VIRTIO_NET_F_GUEST_TSO4 = 7;
export const VIRTIO_NET_F_GUEST_TSO6 = 8;
export const VIRTIO_NET_F_GUEST_ECN = 9;
export const VIRTIO_NET_F_GUEST_UFO = 10;
export const VIRTIO_NET_F_HOST_TSO4 = 11;
export const VIRTIO_NET_F_HOST_TSO6 = 12;
export const VIRTIO_NET_F_HOST_ECN = 13;
export const VIRTIO_NET_F_HOST_UFO = 14;
export const VIRTIO_NET_F_MRG_RXBUF = 15;
export const VIRTIO_NET_F_STATUS = 16;
export const VIRTIO_NET_F_CTRL_VQ = 17;
export const VIRTIO_NET_F_CTRL_RX = 18;
export const VIRTIO_NET_F_CTRL_VLAN = 19;
export const VIRTIO_NET_F_GUEST_ANNOUNCE = 21;
export const VIRTIO_NET_F_MQ = 22;
export const VIRTIO_NET_F_CTRL_MAC_ADDR = 23;
export const VIRTIO_NET_RECEIVEQ = 0;
export const VIRTIO_NET_TRANSMITQ = 1;
// §5.1.4 struct virtio_net_config
export const VIRTIO_NET_CFG_MAC = 0; // u8[6]
export const VIRTIO_NET_CFG_STATUS = 6; // le16
export const VIRTIO_NET_CFG_MAX_VIRTQUEUE_PAIRS = 8; // le16
export const VIRTIO_NET_CFG_MTU = 10; // le16
export const VIRTIO_NET_CFG_SPEED = 12; // le32
export const VIRTIO_NET_CFG_DUPLEX = 16; // u8
export const VIRTIO_NET_CONFIG_SIZE = 24;
export const VIRTIO_NET_S_LINK_UP = 1;
export const VIRTIO_NET_S_ANNOUNCE = 2;
// §5.1.6 struct virtio_net_hdr (with VIRTIO_F_VERSION_1 num_buffers is always present: 12 bytes)
export const VIRTIO_NET_HDR_FLAGS = 0; // u8
export const VIRTIO_NET_HDR_GSO_TYPE = 1; // u8
export const VIRTIO_NET_HDR_HDR_LEN = 2; // le16
export const VIRTIO_NET_HDR_GSO_SIZE = 4; // le16
export const VIRTIO_NET_HDR_CSUM_START = 6; // le16
export const VIRTIO_NET_HDR_CSUM_OFFSET = 8; // le16
export const VIRTIO_NET_HDR_NUM_BUFFERS = 10; // le16
export const VIRTIO_NET_HDR_SIZE = 12;
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
export const VIRTIO_NET_HDR_F_RSC_INFO = 4;
export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
export const VIRTIO_NET_HDR_GSO_UDP = 3;
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
export const VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;

// ───────────── §5.10 Socket (vsock) device ─────────────
export const VIRTIO_VSOCK_F_STREAM = 0;
export const VIRTIO_VSOCK_F_SEQPACKET = 1;
export const VIRTIO_VSOCK_RX = 0;
export const VIRTIO_VSOCK_TX = 1;
export const VIRTIO_VSOCK_EVENT = 2;
/** §5.10.4 struct virtio_vsock_config { le64 guest_cid; } */
export const VIRTIO_VSOCK_CFG_GUEST_CID = 0;
export const VIRTIO_VSOCK_CONFIG_SIZE = 8;
/** Well-known CIDs: the host is 2; guests start at 3. */
export const VMADDR_CID_HYPERVISOR = 0;
export const VMADDR_CID_LOCAL = 1;
export const VMADDR_CID_HOST = 2;
// §5.10.6 struct virtio_vsock_hdr (packed, 44 bytes)
export const VIRTIO_VSOCK_HDR_SRC_CID = 0; // le64
export const VIRTIO_VSOCK_HDR_DST_CID = 8; // le64
export const VIRTIO_VSOCK_HDR_SRC_PORT = 16; // le32
export const VIRTIO_VSOCK_HDR_DST_PORT = 20; // le32
export const VIRTIO_VSOCK_HDR_LEN = 24; // le32
export const VIRTIO_VSOCK_HDR_TYPE = 28; // le16
export const VIRTIO_VSOCK_HDR_OP = 30; // le16
export const VIRTIO_VSOCK_HDR_FLAGS = 32; // le32
export const VIRTIO_VSOCK_HDR_BUF_ALLOC = 36; // le32
export const VIRTIO_VSOCK_HDR_FWD_CNT = 40; // le32
export const VIRTIO_VSOCK_HDR_SIZE = 44;
export const VIRTIO_VSOCK_TYPE_STREAM = 1;
export const VIRTIO_VSOCK_TYPE_SEQPACKET = 2;
export const VIRTIO_VSOCK_OP_INVALID = 0;
export const VIRTIO_VSOCK_OP_REQUEST = 1;
export const VIRTIO_VSOCK_OP_RESPONSE = 2;
export const VIRTIO_VSOCK_OP_RST = 3;
export const VIRTIO_VSOCK_OP_SHUTDOWN = 4;
export const VIRTIO_VSOCK_OP_RW = 5;
export const VIRTIO_VSOCK_OP_CREDIT_UPDATE = 6;
export const VIRTIO_VSOCK_OP_CREDIT_REQUEST = 7;
export const VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE = 1;
export const VIRTIO_VSOCK_SHUTDOWN_F_SEND = 2;
/** §5.10.6.4 struct virtio_vsock_event { le32 id; } */
export const VIRTIO_VSOCK_EVENT_TRANSPORT_RESET = 0;

/**
 * The vsock header with CIDs as plain numbers (exact below 2^53; real CIDs are 32-bit): for
 * code that runs in the guest engine, which has no BigInt, and for the VMM's device.
 */
export interface VsockHeader {
  srcCid: number;
  dstCid: number;
  srcPort: number;
  dstPort: number;
  len: number;
  type: number;
  op: number;
  flags: number;
  bufAlloc: number;
  fwdCnt: number;
}

const U32 = 0x1_0000_0000;

/** Writes `h` into the first 44 bytes of `out` (little-endian, no BigInt). */
export function writeVsockHeader(out: Uint8Array, h: VsockHeader): Uint8Array {
  const v = new DataView(out.buffer, out.byteOffset, VIRTIO_VSOCK_HDR_SIZE);
  v.setUint32(VIRTIO_VSOCK_HDR_SRC_CID, h.srcCid >>> 0, true);
  v.setUint32(VIRTIO_VSOCK_HDR_SRC_CID + 4, Math.floor(h.srcCid / U32) >>> 0, true);
  v.setUint32(VIRTIO_VSOCK_HDR_DST_CID, h.dstCid >>> 0, true);
  v.setUint32(VIRTIO_VSOCK_HDR_DST_CID + 4, Math.floor(h.dstCid / U32) >>> 0, true);
  v.setUint32(VIRTIO_VSOCK_HDR_SRC_PORT, h.srcPort >>> 0, true);
  v.setUint32(VIRTIO_VSOCK_HDR_DST_PORT, h.dstPort >>> 0, true);
  v.setUint32(VIRTIO_VSOCK_HDR_LEN, h.len >>> 0, true);
  v.setUint16(VIRTIO_VSOCK_HDR_TYPE, h.type & 0xffff, true);
  v.setUint16(VIRTIO_VSOCK_HDR_OP, h.op & 0xffff, true);
  v.setUint32(VIRTIO_VSOCK_HDR_FLAGS, h.flags >>> 0, true);
  v.setUint32(VIRTIO_VSOCK_HDR_BUF_ALLOC, h.bufAlloc >>> 0, true);
  v.setUint32(VIRTIO_VSOCK_HDR_FWD_CNT, h.fwdCnt >>> 0, true);
  return out;
}

/** Reads a header from the first 44 bytes of `b` (caller checks the length; no BigInt). */
export function readVsockHeader(b: Uint8Array): VsockHeader {
  const v = new DataView(b.buffer, b.byteOffset, VIRTIO_VSOCK_HDR_SIZE);
  return {
    srcCid: v.getUint32(VIRTIO_VSOCK_HDR_SRC_CID, true) + v.getUint32(VIRTIO_VSOCK_HDR_SRC_CID + 4, true) * U32,
    dstCid: v.getUint32(VIRTIO_VSOCK_HDR_DST_CID, true) + v.getUint32(VIRTIO_VSOCK_HDR_DST_CID + 4, true) * U32,
    srcPort: v.getUint32(VIRTIO_VSOCK_HDR_SRC_PORT, true),
    dstPort: v.getUint32(VIRTIO_VSOCK_HDR_DST_PORT, true),
    len: v.getUint32(VIRTIO_VSOCK_HDR_LEN, true),
    type: v.getUint16(VIRTIO_VSOCK_HDR_TYPE, true),
    op: v.getUint16(VIRTIO_VSOCK_HDR_OP, true),
    flags: v.getUint32(VIRTIO_VSOCK_HDR_FLAGS, true),
    bufAlloc: v.getUint32(VIRTIO_VSOCK_HDR_BUF_ALLOC, true),
    fwdCnt: v.getUint32(VIRTIO_VSOCK_HDR_FWD_CNT, true),
  };
}

// ───────────── §5.11 File system device ─────────────
export const VIRTIO_FS_F_NOTIFICATION = 0;
/** Queue 0 takes FORGET and INTERRUPT (no reply); requests go to queue 1 and up. */
export const VIRTIO_FS_HIPRIO_QUEUE = 0;
export const VIRTIO_FS_REQUEST_QUEUE = 1;
/** §5.11.4 struct virtio_fs_config { u8 tag[36]; le32 num_request_queues; le32 notify_buf_size; } */
export const VIRTIO_FS_CFG_TAG = 0;
/** The tag is UTF-8, NUL-padded, and not NUL-terminated when it is 36 bytes long. */
export const VIRTIO_FS_TAG_BYTES = 36;
export const VIRTIO_FS_CFG_NUM_REQUEST_QUEUES = 36; // le32
export const VIRTIO_FS_CONFIG_SIZE = 40;
