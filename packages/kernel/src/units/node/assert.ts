// `node:assert` for guests, as Workers' nodejs_compat has it, written here rather than bundling
// npm `assert` (which brings npm `util` and its polyfills). Node 20's lib/assert.js behaviour: the
// callable default (ok), the loose and strict comparisons (deep ones from comparisons.ts, shared
// with util.isDeepStrictEqual), throws/rejects with a class, RegExp, validation function or object
// of expected properties, doesNotThrow/doesNotReject, match/doesNotMatch, fail, ifError,
// AssertionError (code ERR_ASSERTION) and `strict` (node:assert/strict). Messages start as Node's
// do; values are printed by the console's inspect (units/inspect.ts, its compact layout, not the
// one-property-per-line, sorted form Node's diffs use). Node reads the caller's source for
// ok(false)'s message; here it is Node's fallback ("false == true"). Left out: CallTracker
// (deprecated), stack trimming by stackStartFn (QuickJS has no Error.captureStackTrace).
// The bundle takes it through assert_cjs.ts/assert_strict.ts, so require('assert') is callable.
// Spec: Node.js assert (docs/ARCHITECTURE.md "The CLI", bundler conventions).

import { inspect as kilnInspect } from '../inspect.ts';
import { consoleWrite } from '../console_out.ts';
import { isDeepEqual, isDeepStrictEqual } from './comparisons.ts';

type Fn = (...args: any[]) => any; // eslint-disable-line @typescript-eslint/no-explicit-any
type Message = string | Error | undefined;
type Expected = RegExp | Fn | object | Error;

export interface AssertionErrorOptions {
  message?: string | undefined;
  actual?: unknown;
  expected?: unknown;
  operator?: string | undefined;
  stackStartFn?: Fn | undefined;
}

const inspect = (v: unknown): string => kilnInspect(v);
/** How assertion messages print a value: every level (Node uses depth 1000). */
const inspectValue = (v: unknown): string => kilnInspect(v, { depth: 1000 });
const isRegExp = (v: unknown): v is RegExp => Object.prototype.toString.call(v) === '[object RegExp]';
const isError = (v: unknown): v is Error => v instanceof Error || Object.prototype.toString.call(v) === '[object Error]';

/** A Node-style error: `code` as an own property and in the printed name. */
function nodeError(Ctor: ErrorConstructor | TypeErrorConstructor, code: string, message: string): Error {
  const e = new Ctor(message);
  Object.defineProperty(e, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  return e;
}

/** Node's determineSpecificType: how ERR_INVALID_ARG_TYPE and its kin name what they got. */
function specificType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'number':
      return `type number (${Object.is(value, -0) ? '-0' : String(value)})`;
    case 'function':
      return `function ${value.name}`;
    case 'object': {
      const ctor = (value as { constructor?: { name?: string } }).constructor;
      return ctor && 'name' in ctor ? `an instance of ${ctor.name}` : kilnInspect(value, { depth: -1 });
    }
    case 'string': {
      const s = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      return s.includes("'") ? `type string (${JSON.stringify(s)})` : `type string ('${s}')`;
    }
    default: {
      let shown = inspect(value);
      if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
      return `type ${typeof value} (${shown})`;
    }
  }
}

const invalidArgType = (name: string, what: string, value: unknown): Error =>
  nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" argument must be ${what}. Received ${specificType(value)}`);
const missingArgs = (): Error =>
  nodeError(TypeError, 'ERR_MISSING_ARGS', 'The "actual" and "expected" arguments must be specified');
const ERROR_TYPES = 'of type function or an instance of Error, RegExp, or Object';

const kReadableOperator: Record<string, string> = {
  deepStrictEqual: 'Expected values to be strictly deep-equal:',
  strictEqual: 'Expected values to be strictly equal:',
  strictEqualObject: 'Expected "actual" to be reference-equal to "expected":',
  deepEqual: 'Expected values to be loosely deep-equal:',
  notDeepStrictEqual: 'Expected "actual" not to be strictly deep-equal to:',
  notStrictEqual: 'Expected "actual" to be strictly unequal to:',
  notStrictEqualObject: 'Expected "actual" not to be reference-equal to "expected":',
  notDeepEqual: 'Expected "actual" not to be loosely deep-equal to:',
  notIdentical: 'Values have same structure but are not reference-equal:',
  notDeepEqualUnequal: 'Expected values not to be loosely deep-equal:',
};

/** Short primitives print as `a !== b`. */
const kMaxShortLength = 12;

/** Node's createErrDiff (without colours): the header, then the lines of both values with the
 * differing ones marked `+` (actual) and `-` (expected), long runs of equal lines cut. */
function createErrDiff(actual: unknown, expected: unknown, operator: string, message = ''): string {
  let other = '';
  let res = '';
  let end = '';
  let skipped = false;
  const actualInspected = inspectValue(actual);
  const actualLines = actualInspected.split('\n');
  const expectedLines = inspectValue(expected).split('\n');
  let i = 0;
  let indicator = '';

  if (operator === 'strictEqual' &&
    ((typeof actual === 'object' && actual !== null && typeof expected === 'object' && expected !== null) ||
      (typeof actual === 'function' && typeof expected === 'function'))) {
    operator = 'strictEqualObject';
  }
  const header = message || kReadableOperator[operator]!;

  if (actualLines.length === 1 && expectedLines.length === 1 && actualLines[0] !== expectedLines[0]) {
    const a = actualLines[0]!, b = expectedLines[0]!;
    const inputLength = a.length + b.length;
    if (inputLength <= kMaxShortLength) {
      if ((typeof actual !== 'object' || actual === null) && (typeof expected !== 'object' || expected === null) &&
        (actual !== 0 || expected !== 0)) {
        return `${header}\n\n${a} !== ${b}\n`;
      }
    } else if (operator !== 'strictEqualObject' && inputLength < 80) {
      while (a[i] === b[i]) i++;
      if (i > 2) {
        indicator = `\n  ${' '.repeat(i)}^`;
        i = 0;
      }
    }
  }

  // Equal trailing lines: keep up to three as context.
  let a = actualLines[actualLines.length - 1];
  let b = expectedLines[expectedLines.length - 1];
  while (a === b) {
    if (i++ < 3) end = `\n  ${a}${end}`;
    else other = a!;
    actualLines.pop();
    expectedLines.pop();
    if (actualLines.length === 0 || expectedLines.length === 0) break;
    a = actualLines[actualLines.length - 1];
    b = expectedLines[expectedLines.length - 1];
  }

  const maxLines = Math.max(actualLines.length, expectedLines.length);
  if (maxLines === 0) {
    const lines = actualInspected.split('\n');
    if (lines.length > 50) {
      lines[46] = '...';
      lines.length = 47;
    }
    return `${kReadableOperator.notIdentical}\n\n${lines.join('\n')}\n`;
  }
  if (i >= 5) {
    end = `\n...${end}`;
    skipped = true;
  }
  if (other !== '') {
    end = `\n  ${other}${end}`;
    other = '';
  }

  let printedLines = 0;
  let identical = 0;
  const msg = `${header}\n+ actual - expected`;
  const skippedMsg = ' ... Lines skipped';
  let lines = actualLines;
  let plusMinus = '+';
  let maxLength = expectedLines.length;
  if (actualLines.length < maxLines) {
    lines = expectedLines;
    plusMinus = '-';
    maxLength = actualLines.length;
  }
  /** Up to three of the equal lines before line i (a run longer than five shows as ...). */
  const context = (from: string[]): void => {
    if (identical > 2) {
      if (identical > 3) {
        if (identical > 4) {
          if (identical === 5) {
            res += `\n  ${from[i - 3]}`;
            printedLines++;
          } else {
            res += '\n...';
            skipped = true;
          }
        }
        res += `\n  ${from[i - 2]}`;
        printedLines++;
      }
      res += `\n  ${from[i - 1]}`;
      printedLines++;
    }
    identical = 0;
  };

  for (i = 0; i < maxLines; i++) {
    if (maxLength < i + 1) {
      context(lines);
      if (lines === actualLines) res += `\n${plusMinus} ${lines[i]}`;
      else other += `\n${plusMinus} ${lines[i]}`;
      printedLines++;
    } else {
      const expectedLine = expectedLines[i]!;
      let actualLine = actualLines[i]!;
      let divergingLines = actualLine !== expectedLine && (!actualLine.endsWith(',') || actualLine.slice(0, -1) !== expectedLine);
      if (divergingLines && expectedLine.endsWith(',') && expectedLine.slice(0, -1) === actualLine) {
        divergingLines = false;
        actualLine += ',';
      }
      if (divergingLines) {
        context(actualLines);
        res += `\n+ ${actualLine}`;
        other += `\n- ${expectedLine}`;
        printedLines += 2;
      } else {
        res += other;
        other = '';
        identical++;
        if (identical <= 2) {
          res += `\n  ${actualLine}`;
          printedLines++;
        }
      }
    }
    if (printedLines > 50 && i < maxLines - 2) return `${msg}${skippedMsg}\n${res}\n...${other}\n...`;
  }
  return `${msg}${skipped ? skippedMsg : ''}\n${res}${other}${end}${indicator}`;
}

/** The message Node's AssertionError builds when it is given none. */
function generatedMessage(actual: unknown, expected: unknown, operator: string | undefined): string {
  if (operator === 'deepStrictEqual' || operator === 'strictEqual') return createErrDiff(actual, expected, operator);
  if (operator === 'notDeepStrictEqual' || operator === 'notStrictEqual') {
    let base = kReadableOperator[operator]!;
    const res = inspectValue(actual).split('\n');
    if (operator === 'notStrictEqual' && ((typeof actual === 'object' && actual !== null) || typeof actual === 'function')) {
      base = kReadableOperator.notStrictEqualObject!;
    }
    if (res.length > 50) {
      res[46] = '...';
      res.length = 47;
    }
    if (res.length === 1) return `${base}${res[0]!.length > 5 ? '\n\n' : ' '}${res[0]}`;
    return `${base}\n\n${res.join('\n')}\n`;
  }
  let res = inspectValue(actual);
  let other = inspectValue(expected);
  const known = operator === undefined ? undefined : kReadableOperator[operator];
  if (operator === 'notDeepEqual' && res === other) {
    res = `${known}\n\n${res}`;
    return res.length > 1024 ? `${res.slice(0, 1021)}...` : res;
  }
  if (res.length > 512) res = `${res.slice(0, 509)}...`;
  if (other.length > 512) other = `${other.slice(0, 509)}...`;
  if (operator === 'deepEqual') {
    res = `${known}\n\n${res}\n\nshould loosely deep-equal\n\n`;
  } else {
    const unequal = kReadableOperator[`${operator}Unequal`];
    if (unequal) res = `${unequal}\n\n${res}\n\nshould not loosely deep-equal\n\n`;
    else other = ` ${operator} ${other}`;
  }
  return `${res}${other}`;
}

/** Copies of two Errors for the message, so their stacks do not show (Node's copyError). */
function copyError(source: Error): Error {
  const target = Object.assign(Object.create(Object.getPrototypeOf(source)) as Error, source);
  Object.defineProperty(target, 'message', { value: source.message });
  return target;
}

export class AssertionError extends Error {
  declare generatedMessage: boolean;
  declare code: 'ERR_ASSERTION';
  declare actual: unknown;
  declare expected: unknown;
  declare operator: string | undefined;

  constructor(options: AssertionErrorOptions) {
    if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'of type object', options);
    const { message, operator } = options;
    let { actual, expected } = options;
    let text: string;
    if (message != null) {
      text = operator === 'deepStrictEqual' || operator === 'strictEqual'
        ? createErrDiff(actual, expected, operator, String(message))
        : String(message);
    } else {
      if (actual instanceof Error && expected instanceof Error && 'stack' in actual && 'stack' in expected) {
        actual = copyError(actual);
        expected = copyError(expected);
      }
      text = generatedMessage(actual, expected, operator);
    }
    super(text);
    this.generatedMessage = !message;
    Object.defineProperty(this, 'name', { value: 'AssertionError', enumerable: false, writable: true, configurable: true });
    this.code = 'ERR_ASSERTION';
    this.actual = actual;
    this.expected = expected;
    this.operator = operator;
  }

  override toString(): string {
    return `${this.name} [${this.code}]: ${this.message}`;
  }
}

interface FailOptions {
  actual: unknown;
  expected: unknown;
  message: Message;
  operator: string;
}

function innerFail(obj: FailOptions): never {
  if (obj.message instanceof Error) throw obj.message;
  throw new AssertionError(obj as AssertionErrorOptions);
}

function innerOk(argLen: number, value: unknown, message: Message): void {
  if (value) return;
  let generated = false;
  if (argLen === 0) {
    generated = true;
    message = 'No value argument passed to `assert.ok()`';
  } else if (message == null) {
    generated = true; // Node prints the caller's source here when it can read it.
  } else if (isError(message)) {
    throw message;
  }
  const err = new AssertionError({ actual: value, expected: true, message, operator: '==' });
  err.generatedMessage = generated;
  throw err;
}

/** Throws an AssertionError unless `value` is truthy. */
export function ok(...args: [value?: unknown, message?: Message]): void {
  innerOk(args.length, args[0], args[1]);
}

let failWarned = false;

/** Throws an AssertionError ("Failed", or the message; the old (actual, expected, message,
 * operator) form is deprecated, as in Node). */
export function fail(actual?: unknown, expected?: unknown, message?: Message, operator?: string, _stackStartFn?: Fn): never {
  const argsLen = arguments.length;
  let internal = false;
  if (actual == null && argsLen <= 1) {
    internal = true;
    message = 'Failed';
  } else if (argsLen === 1) {
    message = actual as Message;
    actual = undefined;
  } else {
    if (!failWarned) {
      failWarned = true;
      consoleWrite('(kiln) [DEP0094] DeprecationWarning: assert.fail() with more than one argument is deprecated. ' +
        'Please use assert.strictEqual() instead or only pass a message.\n');
    }
    if (argsLen === 2) operator = '!=';
  }
  if (message instanceof Error) throw message;
  const err = new AssertionError({ actual, expected, operator: operator === undefined ? 'fail' : operator, message });
  if (internal) err.generatedMessage = true;
  throw err;
}

/* eslint-disable eqeqeq */
const bothNaN = (a: unknown, b: unknown): boolean => typeof a === 'number' && typeof b === 'number' && a !== a && b !== b; // eslint-disable-line no-self-compare

export function equal(actual: unknown, expected: unknown, message?: Message): void {
  if (arguments.length < 2) throw missingArgs();
  if (actual != expected && !bothNaN(actual, expected)) innerFail({ actual, expected, message, operator: '==' });
}

export function notEqual(actual: unknown, expected: unknown, message?: Message): void {
  if (arguments.length < 2) throw missingArgs();
  if (actual == expected || bothNaN(actual, expected)) innerFail({ actual, expected, message, operator: '!=' });
}
/* eslint-enable eqeqeq */

export function deepEqual(actual: unknown, expected: unknown, message?: Message): void {
  if (arguments.length < 2) throw missingArgs();
  if (!isDeepEqual(actual, expected)) innerFail({ actual, expected, message, operator: 'deepEqual' });
}

export function notDeepEqual(actual: unknown, expected: unknown, message?: Message): void {
  if (arguments.length < 2) throw missingArgs();
  if (isDeepEqual(actual, expected)) innerFail({ actual, expected, message, operator: 'notDeepEqual' });
}

export function deepStrictEqual(actual: unknown, expected: unknown, message?: Message): void {
  if (arguments.length < 2) throw missingArgs();
  if (!isDeepStrictEqual(actual, expected)) innerFail({ actual, expected, message, operator: 'deepStrictEqual' });
}

export function notDeepStrictEqual(actual: unknown, expected: unknown, message?: Message): void {
  if (arguments.length < 2) throw missingArgs();
  if (isDeepStrictEqual(actual, expected)) innerFail({ actual, expected, message, operator: 'notDeepStrictEqual' });
}

export function strictEqual(actual: unknown, expected: unknown, message?: Message): void {
  if (arguments.length < 2) throw missingArgs();
  if (!Object.is(actual, expected)) innerFail({ actual, expected, message, operator: 'strictEqual' });
}

export function notStrictEqual(actual: unknown, expected: unknown, message?: Message): void {
  if (arguments.length < 2) throw missingArgs();
  if (Object.is(actual, expected)) innerFail({ actual, expected, message, operator: 'notStrictEqual' });
}

/** The keys of `obj` that a failed property check prints (Node's Comparison). */
function comparison(obj: Record<PropertyKey, unknown>, keys: PropertyKey[], actual?: Record<PropertyKey, unknown>): object {
  const out: Record<PropertyKey, unknown> = {};
  for (const key of keys) {
    if (!(key in obj)) continue;
    const want = obj[key];
    out[key] = actual !== undefined && typeof actual[key] === 'string' && isRegExp(want) && want.exec(actual[key] as string) !== null
      ? actual[key]
      : want;
  }
  return Object.setPrototypeOf(out, Comparison.prototype) as object;
}
class Comparison {}

function compareExceptionKey(actual: Record<PropertyKey, unknown>, expected: Record<PropertyKey, unknown>, key: PropertyKey, message: Message, keys: PropertyKey[], operator: string): void {
  if (key in actual && isDeepStrictEqual(actual[key], expected[key])) return;
  if (!message) {
    const err = new AssertionError({ actual: comparison(actual, keys), expected: comparison(expected, keys, actual), operator: 'deepStrictEqual' });
    err.actual = actual;
    err.expected = expected;
    err.operator = operator;
    throw err;
  }
  innerFail({ actual, expected, message, operator });
}

/** Does the thrown `actual` match `expected` (a RegExp, a validation object or Error, an Error
 * class, a validation function)? Throws the AssertionError when not. */
function expectedException(actual: unknown, expected: Expected, message: Message, operator: string): void {
  let generated = false;
  let text = message;
  if (typeof expected !== 'function') {
    if (isRegExp(expected)) {
      const str = String(actual);
      if (expected.exec(str) !== null) return;
      if (!text) {
        generated = true;
        text = `The input did not match the regular expression ${inspect(expected)}. Input:\n\n${inspect(str)}\n`;
      }
    } else if (typeof actual !== 'object' || actual === null) {
      const err = new AssertionError({ actual, expected, message: text as string | undefined, operator: 'deepStrictEqual' });
      err.operator = operator;
      throw err;
    } else {
      const exp = expected as Record<PropertyKey, unknown>;
      const keys: PropertyKey[] = Object.keys(exp);
      if (expected instanceof Error) keys.push('name', 'message');
      else if (keys.length === 0) {
        throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The argument 'error' may not be an empty object. Received ${inspect(expected)}`);
      }
      const act = actual as Record<PropertyKey, unknown>;
      for (const key of keys) {
        const want = exp[key];
        if (typeof act[key] === 'string' && isRegExp(want) && want.exec(act[key] as string) !== null) continue;
        compareExceptionKey(act, exp, key, text, keys, operator);
      }
      return;
    }
  } else if (expected.prototype !== undefined && actual instanceof expected) {
    return;
  } else if (Object.prototype.isPrototypeOf.call(Error, expected)) {
    if (!text) {
      generated = true;
      text = `The error is expected to be an instance of "${expected.name}". Received `;
      if (isError(actual)) {
        const name = (actual.constructor && actual.constructor.name) || actual.name;
        text += expected.name === name ? 'an error with identical name but a different prototype.' : `"${name}"`;
        if (actual.message) text += `\n\nError message:\n\n${actual.message}`;
      } else {
        text += `"${kilnInspect(actual, { depth: -1 })}"`;
      }
    }
  } else {
    const res: unknown = Reflect.apply(expected, {}, [actual]);
    if (res === true) return;
    if (!text) {
      generated = true;
      const name = expected.name ? `"${expected.name}" ` : '';
      text = `The ${name}validation function is expected to return "true". Received ${inspect(res)}`;
      if (isError(actual)) text += `\n\nCaught error:\n\n${String(actual)}`;
    }
  }
  const err = new AssertionError({ actual, expected, message: text as string | undefined, operator });
  err.generatedMessage = generated;
  throw err;
}

const NO_EXCEPTION = Symbol('no exception');

function getActual(fn: unknown): unknown {
  if (typeof fn !== 'function') throw invalidArgType('fn', 'of type function', fn);
  try {
    fn();
  } catch (e) {
    return e;
  }
  return NO_EXCEPTION;
}

const isPromiseLike = (v: unknown): v is Promise<unknown> =>
  v instanceof Promise ||
  (v !== null && typeof v === 'object' && typeof (v as Promise<unknown>).then === 'function' && typeof (v as Promise<unknown>).catch === 'function');

async function waitForActual(promiseFn: unknown): Promise<unknown> {
  let resultPromise: unknown;
  if (typeof promiseFn === 'function') {
    resultPromise = promiseFn();
    if (!isPromiseLike(resultPromise)) {
      throw nodeError(TypeError, 'ERR_INVALID_RETURN_VALUE',
        `Expected instance of Promise to be returned from the "promiseFn" function but got ${specificType(resultPromise)}.`);
    }
  } else if (isPromiseLike(promiseFn)) {
    resultPromise = promiseFn;
  } else {
    throw invalidArgType('promiseFn', 'of type function or an instance of Promise', promiseFn);
  }
  try {
    await resultPromise;
  } catch (e) {
    return e;
  }
  return NO_EXCEPTION;
}

function expectsError(operator: 'throws' | 'rejects', actual: unknown, args: unknown[]): void {
  let [error, message] = args as [unknown, Message];
  if (typeof error === 'string') {
    if (args.length === 2) throw invalidArgType('error', ERROR_TYPES, error);
    if (typeof actual === 'object' && actual !== null) {
      if ((actual as Error).message === error) {
        throw nodeError(TypeError, 'ERR_AMBIGUOUS_ARGUMENT',
          `The "error/message" argument is ambiguous. The error message "${(actual as Error).message}" is identical to the message.`);
      }
    } else if (actual === error) {
      throw nodeError(TypeError, 'ERR_AMBIGUOUS_ARGUMENT', `The "error/message" argument is ambiguous. The error "${actual}" is identical to the message.`);
    }
    message = error;
    error = undefined;
  } else if (error != null && typeof error !== 'object' && typeof error !== 'function') {
    throw invalidArgType('error', ERROR_TYPES, error);
  }
  if (actual === NO_EXCEPTION) {
    let details = '';
    const name = (error as { name?: unknown } | undefined)?.name;
    if (error && name) details += ` (${String(name)})`;
    details += message ? `: ${String(message)}` : '.';
    innerFail({
      actual: undefined, expected: error, operator,
      message: `Missing expected ${operator === 'rejects' ? 'rejection' : 'exception'}${details}`,
    });
  }
  if (!error) return;
  expectedException(actual, error as Expected, message, operator);
}

function hasMatchingError(actual: unknown, expected: unknown): boolean {
  if (typeof expected !== 'function') {
    if (isRegExp(expected)) return expected.exec(String(actual)) !== null;
    throw invalidArgType('expected', 'of type function or an instance of RegExp', expected);
  }
  if (expected.prototype !== undefined && actual instanceof expected) return true;
  if (Object.prototype.isPrototypeOf.call(Error, expected)) return false;
  return Reflect.apply(expected, {}, [actual]) === true;
}

function expectsNoError(operator: 'doesNotThrow' | 'doesNotReject', actual: unknown, args: unknown[]): void {
  if (actual === NO_EXCEPTION) return;
  let [error, message] = args as [unknown, Message];
  if (typeof error === 'string') {
    message = error;
    error = undefined;
  }
  if (!error || hasMatchingError(actual, error)) {
    const details = message ? `: ${String(message)}` : '.';
    innerFail({
      actual, expected: error, operator,
      message: `Got unwanted ${operator === 'doesNotReject' ? 'rejection' : 'exception'}${details}\n` +
        `Actual message: "${String(actual && (actual as Error).message)}"`,
    });
  }
  throw actual;
}

/** Expects `fn` to throw (and the error to match `error`, when given). */
export function throws(fn: () => unknown, ...args: [error?: Expected | string, message?: Message]): void {
  expectsError('throws', getActual(fn), args);
}

/** Expects the promise (or the one `fn` returns) to reject (and the reason to match `error`). */
export async function rejects(promiseFn: Promise<unknown> | (() => Promise<unknown>), ...args: [error?: Expected | string, message?: Message]): Promise<void> {
  expectsError('rejects', await waitForActual(promiseFn), args);
}

export function doesNotThrow(fn: () => unknown, ...args: [error?: Expected | string, message?: Message]): void {
  expectsNoError('doesNotThrow', getActual(fn), args);
}

export async function doesNotReject(promiseFn: Promise<unknown> | (() => Promise<unknown>), ...args: [error?: Expected | string, message?: Message]): Promise<void> {
  expectsNoError('doesNotReject', await waitForActual(promiseFn), args);
}

/** Throws an AssertionError for any value but null and undefined (a callback's err). */
export function ifError(err: unknown): void {
  if (err === null || err === undefined) return;
  let message = 'ifError got unwanted exception: ';
  const e = err as { message?: unknown; constructor?: { name?: string } };
  if (typeof err === 'object' && typeof e.message === 'string') {
    message += e.message.length === 0 && e.constructor ? e.constructor.name : e.message;
  } else {
    message += inspect(err);
  }
  throw new AssertionError({ actual: err, expected: null, operator: 'ifError', message });
}

function internalMatch(string: unknown, regexp: RegExp, message: Message, operator: 'match' | 'doesNotMatch'): void {
  if (!isRegExp(regexp)) throw invalidArgType('regexp', 'an instance of RegExp', regexp);
  const match = operator === 'match';
  if (typeof string === 'string' && (regexp.exec(string) !== null) === match) return;
  if (message instanceof Error) throw message;
  const generated = !message;
  const text = message || (typeof string !== 'string'
    ? `The "string" argument must be of type string. Received type ${typeof string} (${inspect(string)})`
    : `${match ? 'The input did not match the regular expression ' : 'The input was expected to not match the regular expression '}` +
      `${inspect(regexp)}. Input:\n\n${inspect(string)}\n`);
  const err = new AssertionError({ actual: string, expected: regexp, message: text, operator });
  err.generatedMessage = generated;
  throw err;
}

export function match(string: string, regexp: RegExp, message?: Message): void {
  internalMatch(string, regexp, message, 'match');
}

export function doesNotMatch(string: string, regexp: RegExp, message?: Message): void {
  internalMatch(string, regexp, message, 'doesNotMatch');
}

const methods = {
  fail, AssertionError, ok, equal, notEqual, deepEqual, notDeepEqual, deepStrictEqual, notDeepStrictEqual,
  strictEqual, notStrictEqual, throws, rejects, doesNotThrow, doesNotReject, ifError, match, doesNotMatch,
};

type Strict = typeof ok & typeof methods & { strict: Strict };

/** node:assert/strict: the strict comparisons under the loose names too. */
export const strict: Strict = Object.assign(
  function strict(...args: [value?: unknown, message?: Message]): void {
    innerOk(args.length, args[0], args[1]);
  },
  methods,
  { equal: strictEqual, deepEqual: deepStrictEqual, notEqual: notStrictEqual, notDeepEqual: notDeepStrictEqual },
) as Strict;
strict.strict = strict;

/** node:assert: ok itself, with every assertion (and `strict`) as a property, as in Node. */
const assert = Object.assign(ok, methods, { strict });

export default assert;
