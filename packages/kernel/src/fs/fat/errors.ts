// Errors inside the FAT driver. The FileSystem methods turn them into FsError (types.ts),
// adding the syscall and path: Fail carries its errno code, CorruptVolume → EIO with the
// reason, NoSpace → ENOSPC. NoSpace says whether clusters freed since the last commit exist,
// so the volume can commit and retry before giving up.

import type { FsErrorCode } from '../types.ts';

/** Largest FAT file: sizes are 32-bit. */
export const FAT_MAX_FILE_SIZE = 0xffffffff;

export class Fail extends Error {
  constructor(readonly code: FsErrorCode, readonly detail?: string) {
    super(detail ?? code);
    this.name = 'Fail';
  }
}

export class CorruptVolume extends Error {
  constructor(reason: string) {
    super(`corrupt FAT volume: ${reason}`);
    this.name = 'CorruptVolume';
  }
}

export class NoSpace extends Error {
  constructor(readonly pendingFrees: boolean) {
    super('no free clusters');
    this.name = 'NoSpace';
  }
}
