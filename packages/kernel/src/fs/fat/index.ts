// The FAT filesystem for Kiln: mount a FAT12/16/32 volume on a block device as a FileSystem
// (types.ts), probe a boot sector, format a device. Guest code and the CLI's `kiln mkfs fat`
// both use it; the write order and crash guarantee are described in volume.ts.

export { probeFat, type FatType } from './bpb.ts';
export { MemoryBlockDevice, type FatBlockDevice } from './device.ts';
export { formatFat, planFat, FormatError, type FormatOptions, type FatPlan } from './format.ts';
export { mountFat, type MountOptions } from './volume.ts';
