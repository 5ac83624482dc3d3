// virtio-fs for the VFS: mountVirtioFs(tag) returns the FileSystem of a host directory shared
// with `kiln run --share HOSTDIR:TAG[,ro]`. Layers: mount.ts (device by tag, INIT),
// filesystem.ts (paths, name cache, files), session.ts (FUSE requests), drivers/virtio/fs.ts.

export { mountVirtioFs, type MountVirtioFsOptions } from './mount.ts';
