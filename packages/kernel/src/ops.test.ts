// ops.ts declares what arch/ops.c provides: the same op names with the same arity. The C side
// is its JSCFunctionListEntry table (JS_CFUNC_DEF("name", length, fn): QuickJS's length is the
// function's .length), the TS side the KilnOps interface's parameter lists and the bound `ops`.

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { ops } from './ops.ts';

const OPS_C = fileURLToPath(new URL('../../../arch/ops.c', import.meta.url));
const OPS_TS = fileURLToPath(new URL('./ops.ts', import.meta.url));

/** The ops table of arch/ops.c: name → length. */
function cTable(): Map<string, number> {
  const src = readFileSync(OPS_C, 'utf8');
  const table = /JSCFunctionListEntry\s+ops\[\]\s*=\s*\{([^}]*)\};/.exec(src);
  assert.ok(table, `no JSCFunctionListEntry ops[] table in ${OPS_C}`);
  const entries = new Map<string, number>();
  for (const line of table[1]!.split('\n').map((l) => l.trim()).filter((l) => l !== '')) {
    const m = /^JS_CFUNC_DEF\("(\w+)",\s*(\d+),\s*\w+\),?$/.exec(line);
    assert.ok(m, `unexpected line in the ops table: ${line}`);
    assert.ok(!entries.has(m[1]!), `${m[1]} twice in the ops table`);
    entries.set(m[1]!, Number(m[2]));
  }
  return entries;
}

/** The KilnOps interface of ops.ts: name → parameter count. */
function tsInterface(): Map<string, number> {
  const file = ts.createSourceFile(OPS_TS, readFileSync(OPS_TS, 'utf8'), ts.ScriptTarget.ES2022);
  const decl = file.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'KilnOps');
  assert.ok(decl, 'no KilnOps interface in ops.ts');
  const members = new Map<string, number>();
  for (const m of decl.members) {
    assert.ok(ts.isMethodSignature(m) && ts.isIdentifier(m.name), `KilnOps member is not a method: ${m.getText(file)}`);
    members.set(m.name.text, m.parameters.length);
  }
  return members;
}

const sorted = (m: Map<string, number>): [string, number][] => [...m].sort(([a], [b]) => a.localeCompare(b));

test('ops.ts KilnOps and arch/ops.c list the same ops with the same arity', () => {
  const c = cTable();
  assert.ok(c.size > 0);
  assert.deepEqual(sorted(tsInterface()), sorted(c));
});

test('the bound ops object has every op of the C table, each taking its arguments', () => {
  const bound = new Map(Object.entries(ops).map(([name, fn]) => [name, (fn as (...a: unknown[]) => unknown).length]));
  assert.deepEqual(sorted(bound), sorted(cTable()));
});
