// Boot of an app that imports kiln:fs: kiln build makes the entry call startWithFilesystems,
// which mounts the image's bootfs (where `kiln build --assets DIR[:/PATH]` put it) and the
// `kiln.mounts=` kernel parameter (`kiln run --mount`), parents before children, and only then
// marks "app starts" and loads the app (esbuild's lazily initialised module), so the app's
// first line sees every mount. A mount failure prints one line and ends the VM with code 1.
// Spec: docs/ARCHITECTURE.md "Filesystems".

import { PAYLOAD_KIND_BOOTFS } from '@kiln/common/image/payload.ts';
import { BootfsImage } from '@kiln/common/image/bootfs.ts';
import { parseCmdline } from '@kiln/common/cmdline.ts';
import { MOUNTS_PARAM, formatMountSource, parseMounts } from '@kiln/common/mount_spec.ts';
import { ops } from '../ops.ts';
import { BootFs } from '../fs/bootfs.ts';
import { consoleWrite } from './console_out.ts';
import { exitNow, reportUncaught } from './lifecycle.ts';
import { openMountSource } from './mount_sources.ts';
import { vfs } from './guest_vfs.ts';

async function mountAll(): Promise<void> {
  let what = 'the image\'s bootfs';
  try {
    const section = ops.op_payload_section(PAYLOAD_KIND_BOOTFS);
    if (section !== undefined) {
      const image = BootfsImage.parse(new Uint8Array(section));
      // No --assets: the section is empty and "/" stays free for --mount.
      if (image.nodeCount > 1) await vfs.mount(image.mountPoint, new BootFs(image), 'bootfs');
    }
    what = `the ${MOUNTS_PARAM}= kernel parameter`;
    const requests = parseMounts(parseCmdline(ops.op_cmdline()).kernel[MOUNTS_PARAM] ?? '');
    requests.sort((a, b) => a.path.length - b.path.length);
    for (const r of requests) {
      what = `${r.path} (${formatMountSource(r.source)})`;
      await vfs.mount(r.path, await openMountSource(r.source, r.path), formatMountSource(r.source));
    }
  } catch (e) {
    consoleWrite(`kiln: cannot mount ${what}: ${e instanceof Error ? e.message : String(e)}\n`);
    exitNow(1);
  }
}

/** Mounts the filesystems, then marks "app starts" and runs the app (`loadApp` imports it). */
export function startWithFilesystems(loadApp: () => Promise<unknown>): void {
  mountAll().then(() => {
    ops.op_boot_mark();
    return loadApp();
  }).catch(reportUncaught);
}
