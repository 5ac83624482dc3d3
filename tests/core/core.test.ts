// core.test.ts — checks of the built guest core (arch/build, made by `make -C arch`):
// the linked image never contains a `syscall` instruction (DESIGN.md §4), it carries the PVH
// note and the `__payload_start` symbol kiln build relies on, the heap allocator survives a
// randomized workout, and the host bytecode compiler reports syntax errors cleanly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseElf, readSymbols } from "@kiln/common";

const arch = new URL("../../arch/", import.meta.url).pathname;
const core = join(arch, "build/kiln-core.elf");
const qjsc = join(arch, "build/kiln-qjsc");
const skip = existsSync(core) && existsSync(qjsc) ? false : "arch/build is missing: run `bash scripts/setup.sh`";

test("the linked core contains no syscall instruction", { skip }, () => {
  const disassembly = execFileSync("objdump", ["-d", core], { maxBuffer: 256 * 1024 * 1024 }).toString();
  assert.ok(disassembly.includes("<kmain>:"), "objdump saw the core's code");
  const offenders = disassembly.split("\n").filter((l) => /\tsyscall\b/.test(l));
  assert.deepEqual(offenders, []);
});

test("the core has the PVH note, both entries and __payload_start", { skip }, () => {
  const elf = parseElf(readFileSync(core));
  const names = new Set(readSymbols(elf).map((s) => s.name));
  for (const name of ["entry64", "pvh_entry", "__payload_start", "kmain"]) assert.ok(names.has(name), name);
  assert.ok(elf.programHeaders.some((p) => p.type === 4 /* PT_NOTE */), "PT_NOTE present");
});

test("the heap allocator survives randomized malloc/realloc/free sequences", { skip }, () => {
  execFileSync("make", ["-s", "-C", arch, "build/malloc_test"]);
  for (const seed of [1, 2, 3]) {
    const out = execFileSync(join(arch, "build/malloc_test"), [String(seed), "100000"]).toString();
    assert.match(out, /^ok seed=/);
  }
});

test("kiln-qjsc compiles a script and rejects a syntax error with file and line", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-qjsc-"));
  writeFileSync(join(dir, "ok.js"), "let x = 1 + 2;\n");
  writeFileSync(join(dir, "bad.js"), "let x = 1;\nlet = = ;\n");
  execFileSync(qjsc, ["-o", join(dir, "ok.bc"), "-n", "ok.js", join(dir, "ok.js")]);
  assert.ok(readFileSync(join(dir, "ok.bc")).length > 0);
  const bad = spawnSync(qjsc, ["-o", join(dir, "bad.bc"), "-n", "bad.js", join(dir, "bad.js")]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr.toString(), /SyntaxError/);
  assert.match(bad.stderr.toString(), /bad\.js:2/);
  assert.equal(existsSync(join(dir, "bad.bc")), false);
});
