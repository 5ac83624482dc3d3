// Node-compatible value formatting for the guest's console: inspect() and format().
// Follows Node's util.inspect defaults (depth 2, breakLength 80, compact 3, array grouping,
// circular refs as `<ref *1>`/`[Circular *1]`, getters not invoked) so output matches Node.
// Spec: Node.js lib/internal/util/inspect.js behaviour (console.log, util.format).
// Uses captured builtins only (lib/primordials.ts): app code patching prototypes cannot break it.
// An Error's stack frames are printed in the app's source lines (stack_lines.ts).

import * as P from '../lib/primordials.ts';
import { mapStack } from './stack_lines.ts';

export interface InspectOptions {
  /** nesting depth before objects print as [Object]; default 2 */
  depth?: number;
}

interface Ctx {
  depth: number;
  seen: unknown[];
  circular: Map<unknown, number> | undefined;
  indentationLvl: number;
  currentDepth: number;
  breakLength: number;
  compact: number;
  maxArrayLength: number;
}

const kObjectType = 0;
const kArrayExtrasType = 1;
const keyStrRegExp = /^[a-zA-Z_][a-zA-Z_0-9]*$/;
const indexRegExp = /^(0|[1-9][0-9]*)$/;
const strEscapeRegExp = /[\x00-\x1f\x27\x5c\x7f-\x9f]/g;
const builtInObjects = new Set([
  'Object', 'Function', 'Array', 'Number', 'Boolean', 'String', 'Symbol', 'Date', 'Promise', 'RegExp', 'Error',
  'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError', 'AggregateError', 'ArrayBuffer',
  'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array',
  'Uint8ClampedArray', 'BigUint64Array', 'BigInt64Array', 'DataView', 'Map', 'BigInt', 'Set', 'WeakMap', 'WeakSet', 'Proxy',
]);
const meta: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r', 39: "\\'", 92: '\\\\' };

/** Formats any value the way Node's util.inspect does with default options. */
export function inspect(value: unknown, opts: InspectOptions = {}): string {
  const ctx: Ctx = {
    depth: opts.depth ?? 2, seen: [], circular: undefined, indentationLvl: 0, currentDepth: 0,
    breakLength: 80, compact: 3, maxArrayLength: 100,
  };
  return formatValue(ctx, value, 0);
}

function escapeFn(ch: string): string {
  const c = P.StringPrototypeCharCodeAt(ch, 0);
  const m = meta[c];
  if (m !== undefined) return m;
  return `\\x${P.StringPrototypePadStart(c.toString(16).toUpperCase(), 2, '0')}`;
}

/** Quotes a string like Node: single quotes, unless it contains them and another quote fits. */
export function strEscape(str: string): string {
  let quote = "'";
  let escapeSingle = true;
  if (P.StringPrototypeIncludes(str, "'")) {
    if (!P.StringPrototypeIncludes(str, '"')) {
      quote = '"';
      escapeSingle = false;
    } else if (!P.StringPrototypeIncludes(str, '`') && !P.StringPrototypeIncludes(str, '${')) {
      quote = '`';
      escapeSingle = false;
    }
  }
  const escaped = P.StringPrototypeReplace(str, strEscapeRegExp, (ch) => (ch === "'" && !escapeSingle ? ch : escapeFn(ch)));
  return quote + escaped + quote;
}

function formatNumber(n: number): string {
  return P.ObjectIs(n, -0) ? '-0' : `${n}`;
}

function formatPrimitive(ctx: Ctx, value: unknown): string {
  switch (typeof value) {
    case 'string': {
      if (value.length > 16 && value.length > ctx.breakLength - ctx.indentationLvl - 4) {
        // Split long multi-line strings at their newlines, as Node does.
        const lines: string[] = [];
        let start = 0;
        for (let i = 0; i < value.length; i++) {
          if (P.StringPrototypeCharCodeAt(value, i) === 10) {
            P.ArrayPrototypePush(lines, P.StringPrototypeSlice(value, start, i + 1));
            start = i + 1;
          }
        }
        if (start < value.length) P.ArrayPrototypePush(lines, P.StringPrototypeSlice(value, start));
        const quoted: string[] = [];
        for (let i = 0; i < lines.length; i++) P.ArrayPrototypePush(quoted, strEscape(lines[i]!));
        return P.ArrayPrototypeJoin(quoted, ` +\n${P.StringPrototypeRepeat(' ', ctx.indentationLvl + 2)}`);
      }
      return strEscape(value);
    }
    case 'number': return formatNumber(value);
    case 'bigint': return `${value}n`;
    case 'boolean': return `${value}`;
    case 'undefined': return 'undefined';
    case 'symbol': return P.SymbolPrototypeToString(value);
    default: return P.StringCtor(value);
  }
}

function formatValue(ctx: Ctx, value: unknown, recurseTimes: number): string {
  if (typeof value !== 'object' && typeof value !== 'function') return formatPrimitive(ctx, value);
  if (value === null) return 'null';
  if (P.ArrayPrototypeIndexOf(ctx.seen, value) !== -1) {
    let index = 1;
    if (ctx.circular === undefined) {
      ctx.circular = new Map([[value, index]]);
    } else {
      const known = ctx.circular.get(value);
      if (known === undefined) {
        index = ctx.circular.size + 1;
        ctx.circular.set(value, index);
      } else {
        index = known;
      }
    }
    return `[Circular *${index}]`;
  }
  return formatRaw(ctx, value as object, recurseTimes);
}

function isInstanceof(obj: unknown, ctor: unknown): boolean {
  try {
    return obj instanceof (ctor as new () => unknown);
  } catch {
    return false;
  }
}

function getConstructorName(obj: object): string | null {
  let cur: object | null = obj;
  let firstProto: object | null | undefined;
  while (cur !== null) {
    const d = P.ObjectGetOwnPropertyDescriptor(cur, 'constructor');
    if (d !== undefined && typeof d.value === 'function' && d.value.name !== '' && isInstanceof(obj, d.value)) {
      return P.StringCtor(d.value.name);
    }
    cur = P.ObjectGetPrototypeOf(cur) as object | null;
    if (firstProto === undefined) firstProto = cur;
  }
  return firstProto === null ? null : 'Object';
}

function getPrefix(constructor: string | null, tag: string, fallback: string, size = ''): string {
  if (constructor === null) {
    if (tag !== '' && fallback !== tag) return `[${fallback}${size}: null prototype] [${tag}] `;
    return `[${fallback}${size}: null prototype] `;
  }
  if (tag !== '' && constructor !== tag) return `${constructor}${size} [${tag}] `;
  return `${constructor}${size} `;
}

function getKeys(value: object, nonIndex: boolean): PropertyKey[] {
  const keys: PropertyKey[] = [];
  const names = P.ObjectKeys(value);
  for (let i = 0; i < names.length; i++) {
    const k = names[i]!;
    if (nonIndex && P.RegExpPrototypeTest(indexRegExp, k)) continue;
    P.ArrayPrototypePush(keys, k);
  }
  const symbols = P.ObjectGetOwnPropertySymbols(value);
  for (let i = 0; i < symbols.length; i++) {
    if (P.ObjectPrototypePropertyIsEnumerable(value, symbols[i]!)) P.ArrayPrototypePush<PropertyKey>(keys, symbols[i]!);
  }
  return keys;
}

function isTypedArray(v: object): boolean {
  return P.ArrayBufferIsView(v) && P.TypedArrayPrototypeGetSymbolToStringTag(v) !== undefined;
}

function getFunctionBase(value: Function, constructor: string | null, tag: string): string {
  let src = '';
  try {
    src = P.FunctionPrototypeToString(value);
  } catch {
    // e.g. a revoked proxy; fall through to the plain form
  }
  if (P.StringPrototypeStartsWith(src, 'class') && src[src.length - 1] === '}') {
    let base = `[class ${value.name !== '' ? value.name : '(anonymous)'}`;
    const superClass = P.ObjectGetPrototypeOf(value) as { name?: unknown } | null;
    if (superClass !== null && superClass !== Function.prototype && typeof superClass.name === 'string' && superClass.name !== '') {
      base += ` extends ${superClass.name}`;
    }
    return `${base}]`;
  }
  let type = 'Function';
  if (constructor === 'AsyncFunction' || constructor === 'GeneratorFunction' || constructor === 'AsyncGeneratorFunction') {
    type = constructor;
  }
  let base = `[${type}`;
  if (constructor === null) base += ' (null prototype)';
  base += value.name === '' ? ' (anonymous)' : `: ${value.name}`;
  base += ']';
  if (constructor !== type && constructor !== null) base += ` ${constructor}`;
  if (tag !== '' && constructor !== tag) base += ` [${tag}]`;
  return base;
}

function formatError(ctx: Ctx, err: Error): string {
  let name = 'Error';
  let message = '';
  let stack = '';
  try {
    name = P.StringCtor(err.name);
    message = P.StringCtor(err.message);
    stack = typeof err.stack === 'string' ? err.stack : '';
  } catch {
    // a hostile getter; print what we have
  }
  stack = mapStack(stack);
  const header = message === '' ? name : `${name}: ${message}`;
  // V8 puts "Name: message" first in the stack; QuickJS has only the frames.
  if (!P.StringPrototypeStartsWith(stack, header)) stack = stack === '' ? header : `${header}\n${stack}`;
  while (stack.length > 0 && stack[stack.length - 1] === '\n') stack = P.StringPrototypeSlice(stack, 0, -1);
  if (!P.StringPrototypeIncludes(stack, '\n    at')) stack = `[${stack}]`;
  if (ctx.indentationLvl !== 0) {
    const lines = P.StringPrototypeSplit(stack, '\n');
    stack = P.ArrayPrototypeJoin(lines, `\n${P.StringPrototypeRepeat(' ', ctx.indentationLvl)}`);
  }
  return stack;
}

function formatRaw(ctx: Ctx, value: object, recurseTimes: number): string {
  const constructor = getConstructorName(value);
  let tag = '';
  try {
    const t = (value as Record<symbol, unknown>)[P.SymbolToStringTag];
    if (typeof t === 'string' && t !== '' && !P.ObjectPrototypePropertyIsEnumerable(value, P.SymbolToStringTag)) tag = t;
  } catch {
    tag = '';
  }
  let base = '';
  let keys: PropertyKey[];
  let braces: [string, string];
  let extrasType = kObjectType;
  let formatter: (ctx: Ctx, value: never, recurseTimes: number) => string[] = () => [];

  if (P.ArrayIsArray(value)) {
    keys = getKeys(value, true);
    const prefix = constructor !== 'Array' || tag !== '' ? getPrefix(constructor, tag, 'Array', `(${value.length})`) : '';
    braces = [`${prefix}[`, ']'];
    if (value.length === 0 && keys.length === 0) return `${braces[0]}]`;
    extrasType = kArrayExtrasType;
    formatter = formatArray;
  } else if (value instanceof Set) {
    const size = P.SetPrototypeGetSize(value);
    keys = getKeys(value, false);
    const prefix = getPrefix(constructor, tag, 'Set', `(${size})`);
    if (size === 0 && keys.length === 0) return `${prefix}{}`;
    braces = [`${prefix}{`, '}'];
    formatter = formatSet;
  } else if (value instanceof Map) {
    const size = P.MapPrototypeGetSize(value);
    keys = getKeys(value, false);
    const prefix = getPrefix(constructor, tag, 'Map', `(${size})`);
    if (size === 0 && keys.length === 0) return `${prefix}{}`;
    braces = [`${prefix}{`, '}'];
    formatter = formatMap;
  } else if (isTypedArray(value)) {
    const length = P.TypedArrayPrototypeGetLength(value as ArrayLike<unknown>);
    keys = getKeys(value, true);
    const fallback = P.TypedArrayPrototypeGetSymbolToStringTag(value) ?? 'TypedArray';
    const prefix = getPrefix(constructor, tag === fallback ? '' : tag, fallback, `(${length})`);
    braces = [`${prefix}[`, ']'];
    if (length === 0 && keys.length === 0) return `${braces[0]}]`;
    extrasType = kArrayExtrasType;
    formatter = formatTypedArray;
  } else {
    keys = getKeys(value, false);
    braces = ['{', '}'];
    if (typeof value === 'function') {
      base = getFunctionBase(value, constructor, tag);
      if (keys.length === 0) return base;
    } else if (constructor === 'Object') {
      if (tag !== '') braces[0] = `${getPrefix(constructor, tag, 'Object')}{`;
      if (keys.length === 0) return `${braces[0]}}`;
    } else if (value instanceof RegExp) {
      base = P.RegExpPrototypeToString(value);
      if (keys.length === 0) return base;
    } else if (value instanceof Date) {
      const t = P.DatePrototypeGetTime(value);
      base = t !== t ? 'Invalid Date' : P.DatePrototypeToISOString(value);
      if (constructor !== 'Date') base = `${getPrefix(constructor, tag, 'Date')}${base}`;
      if (keys.length === 0) return base;
    } else if (value instanceof Error) {
      base = formatError(ctx, value);
      if (keys.length === 0) return base;
    } else if (value instanceof Number || value instanceof String || value instanceof Boolean) {
      let type: string;
      let inner: string;
      if (value instanceof Number) {
        type = 'Number';
        inner = formatNumber(P.NumberPrototypeValueOf(value));
      } else if (value instanceof String) {
        type = 'String';
        inner = strEscape(P.StringPrototypeValueOf(value));
        keys = getKeys(value, true);
      } else {
        type = 'Boolean';
        inner = `${P.BooleanPrototypeValueOf(value)}`;
      }
      base = `[${type}${constructor !== type ? ` (${constructor === null ? 'null prototype' : constructor})` : ''}: ${inner}]`;
      if (keys.length === 0) return base;
    } else if (value instanceof ArrayBuffer) {
      braces[0] = `${getPrefix(constructor, tag, 'ArrayBuffer')}{`;
      formatter = formatArrayBuffer;
    } else {
      braces[0] = `${getPrefix(constructor, tag, 'Object')}{`;
      if (keys.length === 0) return `${braces[0]}}`;
    }
  }

  if (recurseTimes > ctx.depth) {
    let name = P.StringPrototypeSlice(getPrefix(constructor, tag, 'Object'), 0, -1);
    if (constructor !== null) name = `[${name}]`;
    return name;
  }
  recurseTimes += 1;
  P.ArrayPrototypePush(ctx.seen, value);
  ctx.currentDepth = recurseTimes;
  const output = formatter(ctx, value as never, recurseTimes);
  for (let i = 0; i < keys.length; i++) {
    P.ArrayPrototypePush(output, formatProperty(ctx, value, recurseTimes, keys[i]!, extrasType));
  }
  P.ArrayPrototypePop(ctx.seen);
  if (ctx.circular !== undefined) {
    const index = ctx.circular.get(value);
    if (index !== undefined) {
      const reference = `<ref *${index}>`;
      base = base === '' ? reference : `${reference} ${base}`;
    }
  }
  return reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value);
}

function formatProperty(ctx: Ctx, value: object, recurseTimes: number, key: PropertyKey, type: number): string {
  const desc = P.ObjectGetOwnPropertyDescriptor(value, key) ?? { value: (value as Record<PropertyKey, unknown>)[key], enumerable: true };
  let str: string;
  if (desc.value !== undefined) {
    ctx.indentationLvl += 2;
    str = formatValue(ctx, desc.value, recurseTimes);
    ctx.indentationLvl -= 2;
  } else if (desc.get !== undefined) {
    str = desc.set !== undefined ? '[Getter/Setter]' : '[Getter]';
  } else if (desc.set !== undefined) {
    str = '[Setter]';
  } else {
    str = 'undefined';
  }
  if (type === kArrayExtrasType && typeof key === 'number') return str;
  let name: string;
  if (typeof key === 'symbol') {
    name = `[${P.SymbolPrototypeToString(key)}]`;
  } else if (key === '__proto__') {
    name = "['__proto__']";
  } else if (desc.enumerable === false) {
    name = `[${P.StringCtor(key)}]`;
  } else if (P.RegExpPrototypeTest(keyStrRegExp, P.StringCtor(key))) {
    name = P.StringCtor(key);
  } else {
    name = strEscape(P.StringCtor(key));
  }
  return `${name}: ${str}`;
}

function formatArray(ctx: Ctx, value: unknown[], recurseTimes: number): string[] {
  const valLen = value.length;
  const len = P.MathMin(ctx.maxArrayLength, valLen);
  const output: string[] = [];
  let holes = 0;
  for (let i = 0; i < len; i++) {
    if (!P.ObjectPrototypeHasOwnProperty(value, i)) {
      holes++;
      continue;
    }
    if (holes > 0) {
      P.ArrayPrototypePush(output, `<${holes} empty item${holes > 1 ? 's' : ''}>`);
      holes = 0;
    }
    P.ArrayPrototypePush(output, formatProperty(ctx, value, recurseTimes, i, kArrayExtrasType));
  }
  if (holes > 0) P.ArrayPrototypePush(output, `<${holes} empty item${holes > 1 ? 's' : ''}>`);
  const remaining = valLen - len;
  if (remaining > 0) P.ArrayPrototypePush(output, `... ${remaining} more item${remaining > 1 ? 's' : ''}`);
  return output;
}

function formatTypedArray(ctx: Ctx, value: ArrayLike<number | bigint>, _recurseTimes: number): string[] {
  const length = P.TypedArrayPrototypeGetLength(value);
  const len = P.MathMin(ctx.maxArrayLength, length);
  const output: string[] = [];
  for (let i = 0; i < len; i++) {
    const v = value[i]!;
    P.ArrayPrototypePush(output, typeof v === 'bigint' ? `${v}n` : formatNumber(v));
  }
  const remaining = length - len;
  if (remaining > 0) P.ArrayPrototypePush(output, `... ${remaining} more item${remaining > 1 ? 's' : ''}`);
  return output;
}

function formatArrayBuffer(_ctx: Ctx, value: ArrayBuffer): string[] {
  const len = P.ArrayBufferPrototypeGetByteLength(value);
  const bytes = new P.Uint8ArrayCtor(value, 0, P.MathMin(50, len));
  const hex: string[] = [];
  for (let i = 0; i < bytes.length; i++) P.ArrayPrototypePush(hex, P.StringPrototypePadStart(bytes[i]!.toString(16), 2, '0'));
  let str = P.ArrayPrototypeJoin(hex, ' ');
  if (len > 50) str += ` ... ${len - 50} more byte${len - 50 > 1 ? 's' : ''}`;
  return [`[Uint8Contents]: <${str}>`, `byteLength: ${formatNumber(len)}`];
}

function formatSet(ctx: Ctx, value: Set<unknown>, recurseTimes: number): string[] {
  const output: string[] = [];
  ctx.indentationLvl += 2;
  P.SetPrototypeForEach(value, (v) => {
    P.ArrayPrototypePush(output, formatValue(ctx, v, recurseTimes));
  });
  ctx.indentationLvl -= 2;
  return output;
}

function formatMap(ctx: Ctx, value: Map<unknown, unknown>, recurseTimes: number): string[] {
  const output: string[] = [];
  ctx.indentationLvl += 2;
  P.MapPrototypeForEach(value, (v, k) => {
    P.ArrayPrototypePush(output, `${formatValue(ctx, k, recurseTimes)} => ${formatValue(ctx, v, recurseTimes)}`);
  });
  ctx.indentationLvl -= 2;
  return output;
}

function groupArrayElements(ctx: Ctx, output: string[], value: unknown): string[] {
  let totalLength = 0;
  let maxLength = 0;
  let outputLength = output.length;
  // The "... n more items" entry is not grouped.
  if (ctx.maxArrayLength < (value as unknown[]).length && outputLength > 0 && P.StringPrototypeStartsWith(output[outputLength - 1]!, '... ')) outputLength--;
  const separatorSpace = 2;
  const dataLen: number[] = [];
  for (let i = 0; i < outputLength; i++) {
    const len = output[i]!.length;
    P.ArrayPrototypePush(dataLen, len);
    totalLength += len + separatorSpace;
    if (maxLength < len) maxLength = len;
  }
  const actualMax = maxLength + separatorSpace;
  if (actualMax * 3 + ctx.indentationLvl < ctx.breakLength && (totalLength / actualMax > 5 || maxLength <= 6)) {
    const averageBias = P.MathSqrt(actualMax - totalLength / output.length);
    const biasedMax = P.MathMax(actualMax - 3 - averageBias, 1);
    const columns = P.MathMin(
      P.MathRound(P.MathSqrt(2.5 * biasedMax * outputLength) / biasedMax),
      P.MathFloor((ctx.breakLength - ctx.indentationLvl) / actualMax),
      ctx.compact * 4,
      15,
    );
    if (columns <= 1) return output;
    const tmp: string[] = [];
    const maxLineLength: number[] = [];
    for (let i = 0; i < columns; i++) {
      let lineLength = 0;
      for (let j = i; j < output.length; j += columns) if (dataLen[j]! > lineLength) lineLength = dataLen[j]!;
      P.ArrayPrototypePush(maxLineLength, lineLength + separatorSpace);
    }
    let padStart = true;
    const arr = value as ArrayLike<unknown>;
    for (let i = 0; i < output.length; i++) {
      if (typeof arr[i] !== 'number' && typeof arr[i] !== 'bigint') {
        padStart = false;
        break;
      }
    }
    for (let i = 0; i < outputLength; i += columns) {
      const max = P.MathMin(i + columns, outputLength);
      let str = '';
      let j = i;
      for (; j < max - 1; j++) {
        const padding = maxLineLength[j - i]!;
        str += padStart ? P.StringPrototypePadStart(`${output[j]}, `, padding, ' ') : P.StringPrototypePadEnd(`${output[j]}, `, padding, ' ');
      }
      if (padStart) {
        str += P.StringPrototypePadStart(output[j]!, maxLineLength[j - i]! - separatorSpace, ' ');
      } else {
        str += output[j];
      }
      P.ArrayPrototypePush(tmp, str);
    }
    if (outputLength < output.length) P.ArrayPrototypePush(tmp, output[outputLength]!);
    return tmp;
  }
  return output;
}

function isBelowBreakLength(ctx: Ctx, output: string[], start: number, base: string): boolean {
  let totalLength = output.length + start;
  if (totalLength + output.length > ctx.breakLength) return false;
  for (let i = 0; i < output.length; i++) {
    totalLength += output[i]!.length;
    if (totalLength > ctx.breakLength) return false;
  }
  return base === '' || !P.StringPrototypeIncludes(base, '\n');
}

function reduceToSingleString(
  ctx: Ctx, output: string[], base: string, braces: [string, string], extrasType: number, recurseTimes: number, value: unknown,
): string {
  const entries = output.length;
  if (extrasType === kArrayExtrasType && entries > 6) output = groupArrayElements(ctx, output, value);
  if (ctx.currentDepth - recurseTimes < ctx.compact && entries === output.length) {
    const start = output.length + ctx.indentationLvl + braces[0].length + base.length + 10;
    if (isBelowBreakLength(ctx, output, start, base)) {
      const joined = P.ArrayPrototypeJoin(output, ', ');
      if (!P.StringPrototypeIncludes(joined, '\n')) {
        return `${base !== '' ? `${base} ` : ''}${braces[0]} ${joined} ${braces[1]}`;
      }
    }
  }
  const indentation = `\n${P.StringPrototypeRepeat(' ', ctx.indentationLvl)}`;
  return `${base !== '' ? `${base} ` : ''}${braces[0]}${indentation}  ${P.ArrayPrototypeJoin(output, `,${indentation}  `)}${indentation}${braces[1]}`;
}

function hasBuiltInToString(value: object): boolean {
  if (typeof (value as { toString?: unknown }).toString !== 'function') return true;
  if (P.ObjectPrototypeHasOwnProperty(value, 'toString')) return false;
  let pointer: object | null = value;
  do {
    pointer = P.ObjectGetPrototypeOf(pointer) as object | null;
  } while (pointer !== null && !P.ObjectPrototypeHasOwnProperty(pointer, 'toString'));
  if (pointer === null) return true;
  const d = P.ObjectGetOwnPropertyDescriptor(pointer, 'constructor');
  return d !== undefined && typeof d.value === 'function' && builtInObjects.has(d.value.name);
}

function tryStringify(v: unknown): string {
  try {
    return P.StringCtor(P.JSONStringify(v));
  } catch (e) {
    if (e instanceof TypeError && P.StringPrototypeIncludes(P.StringCtor(e.message), 'ircular')) return '[Circular]';
    throw e;
  }
}

/** printf-style formatting of console arguments, as Node's util.format. */
export function format(...args: unknown[]): string {
  const first = args[0];
  let a = 0;
  let str = '';
  let join = '';
  if (typeof first === 'string') {
    if (args.length === 1) return first;
    let tempStr = '';
    let lastPos = 0;
    for (let i = 0; i < first.length - 1; i++) {
      if (P.StringPrototypeCharCodeAt(first, i) !== 37) continue; // '%'
      const nextChar = P.StringPrototypeCharCodeAt(first, ++i);
      if (a + 1 !== args.length) {
        switch (nextChar) {
          case 115: { // 's'
            const arg = args[++a];
            if (typeof arg === 'number') tempStr = formatNumber(arg);
            else if (typeof arg === 'bigint') tempStr = `${arg}n`;
            else if (typeof arg !== 'object' || arg === null || !hasBuiltInToString(arg)) tempStr = P.StringCtor(arg);
            else tempStr = inspect(arg, { depth: 0 });
            break;
          }
          case 106: tempStr = tryStringify(args[++a]); break; // 'j'
          case 100: { // 'd'
            const arg = args[++a];
            if (typeof arg === 'bigint') tempStr = `${arg}n`;
            else if (typeof arg === 'symbol') tempStr = 'NaN';
            else tempStr = formatNumber(P.NumberCtor(arg));
            break;
          }
          case 79: tempStr = inspect(args[++a]); break; // 'O'
          case 111: tempStr = inspect(args[++a], { depth: 4 }); break; // 'o' (Node also shows hidden props)
          case 105: { // 'i'
            const arg = args[++a];
            if (typeof arg === 'bigint') tempStr = `${arg}n`;
            else if (typeof arg === 'symbol') tempStr = 'NaN';
            else tempStr = formatNumber(P.NumberParseInt(P.StringCtor(arg)));
            break;
          }
          case 102: { // 'f'
            const arg = args[++a];
            tempStr = typeof arg === 'symbol' ? 'NaN' : formatNumber(P.NumberParseFloat(P.StringCtor(arg)));
            break;
          }
          case 99: a += 1; tempStr = ''; break; // 'c'
          case 37: // '%%'
            str += P.StringPrototypeSlice(first, lastPos, i);
            lastPos = i + 1;
            continue;
          default:
            continue;
        }
        if (lastPos !== i - 1) str += P.StringPrototypeSlice(first, lastPos, i - 1);
        str += tempStr;
        lastPos = i + 1;
      } else if (nextChar === 37) {
        str += P.StringPrototypeSlice(first, lastPos, i);
        lastPos = i + 1;
      }
    }
    if (lastPos !== 0) {
      a++;
      join = ' ';
      if (lastPos < first.length) str += P.StringPrototypeSlice(first, lastPos);
    }
  }
  while (a < args.length) {
    const value = args[a];
    str += join;
    str += typeof value !== 'string' ? inspect(value) : value;
    join = ' ';
    a++;
  }
  return str;
}
