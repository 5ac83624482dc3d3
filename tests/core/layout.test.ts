// layout.test.ts — the numbers C and TypeScript share are written once per language, under one
// name, and compared here: every #define of arch/layout.h with packages/common/src/layout.ts,
// virtio/constants.ts or vmm's slots.ts, and the core's exit codes (arch/kernel.h, the tender's
// fault.c) with common/exit_codes.ts. Also: the built core carries the process platform's note
// with this ABI, and the tender is a static PIE (the kernel loads it far above guest RAM).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as layout from "@kiln/common/layout.ts";
import * as exitCodes from "@kiln/common/exit_codes.ts";
import * as virtio from "@kiln/common/virtio/constants.ts";
import { VIRTIO_MAX_SLOTS } from "@kiln/vmm/devices/virtio/slots.ts";
import { KILN_PROCESS_ABI } from "@kiln/vmm/process/abi.ts";
import { parseKernelImage } from "@kiln/vmm/boot/elf_loader.ts";
import { parseElf } from "@kiln/common";

const arch = new URL("../../arch/", import.meta.url).pathname;
const source = (file: string): string => readFileSync(join(arch, file), "utf8");

/** Every `#define NAME value` of a header, a value being a number or an earlier NAME. */
function defines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^#define (\w+) (\w+)/gm)) {
    const [, name, value] = m as unknown as [string, string, string];
    const n = /^\d|^0x/i.test(value) ? Number(value.replace(/ull$|u$/i, "")) : out.get(value);
    assert.ok(n !== undefined && Number.isFinite(n), `${name} = ${value}: a number or an earlier name`);
    out.set(name, n);
  }
  return out;
}

test("every number of arch/layout.h is the TypeScript layout's, under the same name", () => {
  const ts: Record<string, unknown> = { ...layout, ...virtio, VIRTIO_MAX_SLOTS };
  const c = defines(source("layout.h"));
  assert.ok(c.size >= 17, `layout.h defines ${c.size} numbers`);
  for (const [name, value] of c) {
    assert.equal(typeof ts[name], "number", `${name} of layout.h is exported by the TypeScript layout`);
    assert.equal(value, ts[name], name);
  }
  // What the C side does not use is TypeScript's alone; a new layout.ts number is one or the other.
  const tsOnly = ["LOW_RAM_END", "CMDLINE_ADDR"];
  for (const name of Object.keys(layout)) {
    if (typeof (layout as Record<string, unknown>)[name] !== "number") continue;
    assert.ok(c.has(name) || tsOnly.includes(name), `${name} of layout.ts is in arch/layout.h (or listed as TypeScript-only here)`);
  }
});

test("the core's exit codes are common/exit_codes.ts's", () => {
  const enumBody = /enum \{ (EXIT_[^}]*)\}/.exec(source("kernel.h"));
  assert.ok(enumBody, "kernel.h has the EXIT_ enum");
  const c = new Map([...enumBody[1]!.matchAll(/EXIT_(\w+) = (\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
  const ts = new Map(Object.entries(exitCodes).map(([k, v]) => [k.replace(/^GUEST_EXIT_/, ""), v]));
  assert.deepEqual(c, ts);
  assert.equal(defines(source("tender/fault.c")).get("EXIT_CPU_FAULT"), exitCodes.GUEST_EXIT_CPU_FAULT, "the tender's fault exit");
});

const core = join(arch, "build/kiln-core.elf");
const tender = join(arch, "build/kiln-tender");
const skip = existsSync(core) && existsSync(tender) ? false : "arch/build is missing: run `bash scripts/setup.sh`";

test("the core's process entry note names this ABI; the tender is a static PIE", { skip }, () => {
  const k = parseKernelImage(readFileSync(core), { contains: () => true });
  assert.equal(k.processEntry?.abi, KILN_PROCESS_ABI);
  const t = parseElf(readFileSync(tender));
  assert.equal(t.header.type, 3 /* ET_DYN */);
  assert.ok(!t.programHeaders.some((p) => p.type === 3 /* PT_INTERP */), "no interpreter: static");
});
