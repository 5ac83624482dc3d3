// layout.test.ts — arch/layout.h and the TypeScript layout agree (packages/common/src/layout.ts,
// virtio/constants.ts, vmm's slots.ts): each number the core uses is written once per language
// and checked here. Also: the built core carries the process platform's note with this ABI, and
// the tender is a static PIE (the kernel loads it far above guest RAM).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as layout from "@kiln/common/layout.ts";
import * as virtio from "@kiln/common/virtio/constants.ts";
import { VIRTIO_MAX_SLOTS } from "@kiln/vmm/devices/virtio/slots.ts";
import { KILN_PROCESS_ABI } from "@kiln/vmm/process/abi.ts";
import { parseKernelImage } from "@kiln/vmm/boot/elf_loader.ts";
import { parseElf } from "@kiln/common";

const arch = new URL("../../arch/", import.meta.url).pathname;
const header = readFileSync(join(arch, "layout.h"), "utf8");
const define = (name: string): number => {
  const m = new RegExp(`^#define ${name} (\\w+)`, "m").exec(header);
  assert.ok(m, `layout.h defines ${name}`);
  return Number(m[1]!.replace(/ull$|u$/, ""));
};

test("arch/layout.h says what the TypeScript layout says", () => {
  assert.equal(define("IMAGE_LOAD_ADDR"), layout.IMAGE_LOAD_ADDR);
  assert.equal(define("MMIO_GAP_START"), layout.MMIO_GAP_START);
  assert.equal(define("MMIO_GAP_END"), layout.MMIO_GAP_END);
  assert.equal(define("BOOT_TIMER_ADDR"), layout.BOOT_TIMER_ADDR);
  assert.equal(define("BOOT_TIMER_MAGIC"), layout.BOOT_TIMER_MAGIC);
  assert.equal(define("VIRTIO_MMIO_BASE"), layout.VIRTIO_MMIO_BASE);
  assert.equal(define("DEBUG_EXIT_PORT"), layout.DEBUG_EXIT_PORT);
  assert.equal(define("HEAP_MIN_BYTES"), layout.HEAP_MIN_BYTES);
  assert.equal(define("VIRTIO_MMIO_SLOT_SIZE"), virtio.VIRTIO_MMIO_SLOT_SIZE);
  assert.equal(define("VIRTIO_MMIO_QUEUE_NOTIFY"), virtio.VIRTIO_MMIO_QUEUE_NOTIFY);
  assert.equal(define("VIRTIO_MMIO_INTERRUPT_STATUS"), virtio.VIRTIO_MMIO_INTERRUPT_STATUS);
  assert.equal(define("VIRTIO_MMIO_INTERRUPT_ACK"), virtio.VIRTIO_MMIO_INTERRUPT_ACK);
  assert.equal(define("VIRTIO_MAX_SLOTS"), VIRTIO_MAX_SLOTS);
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
