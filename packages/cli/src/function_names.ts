// The bundle's function names for the profiler (payload kind 5, common/src/image/function_names.ts):
// QuickJS 2021 names in its bytecode only functions declared or expressed with a name of their
// own; a class method, a getter, an arrow function kept in a field or a variable has an empty
// bytecode name (the `name` property is set at run time), and a profile would show them all as
// `<anonymous>`. This parses the bundle with acorn and names each such function from where it
// is defined — `Class.method`, `get Class.prop`, `Class.field` for `this.field = () => …`,
// `key` in an object literal, `name` for `const name = () => …` or esbuild's keepNames wrapper
// `__name(fn, "name")` — keyed by the bundle line where its code starts (its first statement,
// or its expression body), the line the profiler reads from the bytecode. A class takes its
// name from keepNames' `static { __name(this, "Name") }` when there is one (esbuild may rename
// the binding: `HttpConnection2`).

import { parse, type Node } from 'acorn';
import type { FunctionName } from '@kiln/common/image/function_names.ts';

/** A node as acorn gives it: the fields this walk reads, by type. */
type AnyNode = Node & { [field: string]: unknown; loc: { start: { line: number } } };

const isNode = (v: unknown): v is AnyNode => typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';

/** The name a property key spells, or undefined when computed from an expression. */
function keyName(key: AnyNode, computed: boolean): string | undefined {
  if (key.type === 'PrivateIdentifier') return `#${key.name as string}`;
  if (computed) return key.type === 'Literal' && typeof key.value === 'string' ? key.value : undefined;
  if (key.type === 'Identifier') return key.name as string;
  if (key.type === 'Literal') return String(key.value);
  return undefined;
}

/** A class's name: keepNames' `static { __name(this, "X") }`, else its own or its binding's. */
function className(cls: AnyNode, parent: AnyNode | undefined): string | undefined {
  for (const member of (cls.body as AnyNode).body as AnyNode[]) {
    if (member.type !== 'StaticBlock') continue;
    for (const st of member.body as AnyNode[]) {
      const call = st.type === 'ExpressionStatement' ? (st.expression as AnyNode) : undefined;
      const args = call?.type === 'CallExpression' && (call.callee as AnyNode).type === 'Identifier' && (call.callee as AnyNode).name === '__name' ? (call.arguments as AnyNode[]) : undefined;
      if (args && args[0]?.type === 'ThisExpression' && args[1]?.type === 'Literal' && typeof args[1].value === 'string') return args[1].value;
    }
  }
  const id = cls.id as AnyNode | null;
  if (id) return id.name as string;
  if (parent?.type === 'VariableDeclarator' && (parent.id as AnyNode).type === 'Identifier') return (parent.id as AnyNode).name as string;
  return undefined;
}

/** The line where a function's code starts. */
function codeLine(fn: AnyNode): number {
  const body = fn.body as AnyNode;
  if (body.type === 'BlockStatement') return ((body.body as AnyNode[])[0] ?? body).loc.start.line;
  return body.loc.start.line;
}

type Name = Omit<FunctionName, 'line'>;

/** The name `node` (a function, or the `__name(...)` call around one) gets from where it stands. */
function nameFrom(node: AnyNode, parent: AnyNode | undefined, owner: string | undefined): Name | undefined {
  if (!parent) return undefined;
  switch (parent.type) {
    case 'MethodDefinition':
    case 'PropertyDefinition': {
      const member = keyName(parent.key as AnyNode, parent.computed as boolean);
      if (member === undefined) return undefined;
      const kind = parent.kind as string | undefined;
      return { member, ...(owner !== undefined ? { owner } : {}), ...(kind === 'get' || kind === 'set' ? { accessor: kind } : {}) };
    }
    case 'Property': {
      if (parent.value !== node) return undefined;
      const member = keyName(parent.key as AnyNode, parent.computed as boolean);
      const kind = parent.kind as string;
      return member === undefined ? undefined : { member, ...(kind === 'get' || kind === 'set' ? { accessor: kind } : {}) };
    }
    case 'VariableDeclarator':
      return parent.init === node && (parent.id as AnyNode).type === 'Identifier' ? { member: (parent.id as AnyNode).name as string } : undefined;
    case 'AssignmentExpression': {
      if (parent.right !== node) return undefined;
      const left = parent.left as AnyNode;
      if (left.type === 'Identifier') return { member: left.name as string };
      if (left.type !== 'MemberExpression') return undefined;
      const member = keyName(left.property as AnyNode, left.computed as boolean);
      if (member === undefined) return undefined;
      const object = left.object as AnyNode;
      const by = object.type === 'ThisExpression' ? owner : object.type === 'Identifier' ? (object.name as string) : undefined;
      return { member, ...(by !== undefined ? { owner: by } : {}) };
    }
    default:
      return undefined;
  }
}

/** Named functions of `source` (the bundle) that the bytecode leaves unnamed, by strictly increasing code line (the first on a line wins). */
export function functionNamesOf(source: string): FunctionName[] {
  // The bundle is a global script (build.ts wraps top-level await in a function).
  const ast = parse(source, { ecmaVersion: 'latest', sourceType: 'script', locations: true }) as unknown as AnyNode;
  const byLine = new Map<number, Name>();
  const add = (fn: AnyNode, name: Name | undefined): void => {
    const line = codeLine(fn);
    if (name && !byLine.has(line)) byLine.set(line, name);
  };
  // An explicit stack, not recursion: a deep expression in a dependency cannot overflow it.
  const stack: [AnyNode, AnyNode | undefined, AnyNode | undefined, string | undefined][] = [[ast, undefined, undefined, undefined]];
  while (stack.length > 0) {
    const [node, parent, grandparent, owner] = stack.pop()!;
    let inner = owner;
    if (node.type === 'ClassDeclaration' || node.type === 'ClassExpression') {
      inner = className(node, parent);
    } else if (node.type === 'ArrowFunctionExpression' || (node.type === 'FunctionExpression' && !node.id)) {
      if (parent?.type === 'CallExpression' && (parent.callee as AnyNode).type === 'Identifier' && (parent.callee as AnyNode).name === '__name' && (parent.arguments as AnyNode[])[0] === node) {
        const literal = (parent.arguments as AnyNode[])[1];
        const around = nameFrom(parent, grandparent, owner);
        if (literal?.type === 'Literal' && typeof literal.value === 'string') add(node, { ...around, member: literal.value });
      } else {
        add(node, nameFrom(node, parent, owner));
      }
    }
    const first = stack.length;
    for (const field in node) {
      if (field === 'loc') continue;
      const value = node[field];
      if (typeof value !== 'object' || value === null) continue;
      if (Array.isArray(value)) {
        for (const v of value) if (isNode(v)) stack.push([v, node, parent, inner]);
      } else if (isNode(value)) {
        stack.push([value, node, parent, inner]);
      }
    }
    // children in source order: the first function on a line is the first one visited
    for (let i = first, j = stack.length - 1; i < j; i++, j--) [stack[i], stack[j]] = [stack[j]!, stack[i]!];
  }
  return [...byLine].sort((a, b) => a[0] - b[0]).map(([line, n]) => ({ line, ...n }));
}
