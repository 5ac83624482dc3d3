// Builtins the kernel relies on, captured when the kernel loads (before any app code runs),
// so an app that patches Array.prototype, Math or JSON cannot break console, timers or exit.
// Deno's and Node's "primordials" idea, reduced to what the kernel units use.
// Spec: shared/STYLE.md "TypeScript runtime code".

const { bind, call } = Function.prototype;
/** uncurryThis(Array.prototype.push)(arr, x) ≡ arr.push(x), immune to later patching. */
const uncurryThis = bind.bind(call) as <T, A extends unknown[], R>(fn: (this: T, ...args: A) => R) => (self: T, ...args: A) => R;

export const ReflectApply = Reflect.apply;
export const ReflectOwnKeys = Reflect.ownKeys;
export const ObjectKeys = Object.keys;
export const ObjectGetPrototypeOf = Object.getPrototypeOf;
export const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
export const ObjectGetOwnPropertyNames = Object.getOwnPropertyNames;
export const ObjectGetOwnPropertySymbols = Object.getOwnPropertySymbols;
export const ObjectPrototypeHasOwnProperty = uncurryThis(Object.prototype.hasOwnProperty);
export const ObjectPrototypePropertyIsEnumerable = uncurryThis(Object.prototype.propertyIsEnumerable);
export const ObjectPrototypeToString = uncurryThis(Object.prototype.toString);
export const ArrayIsArray = Array.isArray;
export const ArrayPrototypePush = uncurryThis(Array.prototype.push) as <T>(a: T[], ...items: T[]) => number;
export const ArrayPrototypePop = uncurryThis(Array.prototype.pop) as <T>(a: T[]) => T | undefined;
export const ArrayPrototypeJoin = uncurryThis(Array.prototype.join) as <T>(a: T[], sep: string) => string;
export const ArrayPrototypeIndexOf = uncurryThis(Array.prototype.indexOf) as <T>(a: T[], x: T) => number;
export const ArrayPrototypeSlice = uncurryThis(Array.prototype.slice) as <T>(a: readonly T[], start?: number, end?: number) => T[];
export const StringPrototypeSlice = uncurryThis(String.prototype.slice);
export const StringPrototypeIncludes = uncurryThis(String.prototype.includes);
export const StringPrototypeStartsWith = uncurryThis(String.prototype.startsWith);
export const StringPrototypeCharCodeAt = uncurryThis(String.prototype.charCodeAt);
export const StringPrototypeRepeat = uncurryThis(String.prototype.repeat);
export const StringPrototypePadStart = uncurryThis(String.prototype.padStart);
export const StringPrototypePadEnd = uncurryThis(String.prototype.padEnd);
export const StringPrototypeSplit = uncurryThis(String.prototype.split) as unknown as (s: string, sep: string) => string[];
export const StringPrototypeReplace = uncurryThis(String.prototype.replace) as unknown as (s: string, re: RegExp, f: (m: string) => string) => string;
export const StringPrototypeIndexOf = uncurryThis(String.prototype.indexOf);
export const RegExpPrototypeTest = uncurryThis(RegExp.prototype.test);
export const RegExpPrototypeToString = uncurryThis(RegExp.prototype.toString);
export const DatePrototypeGetTime = uncurryThis(Date.prototype.getTime);
export const DatePrototypeToISOString = uncurryThis(Date.prototype.toISOString);
export const ErrorPrototypeToString = uncurryThis(Error.prototype.toString);
export const FunctionPrototypeToString = uncurryThis(Function.prototype.toString);
export const SymbolPrototypeToString = uncurryThis(Symbol.prototype.toString);
export const NumberPrototypeValueOf = uncurryThis(Number.prototype.valueOf);
export const StringPrototypeValueOf = uncurryThis(String.prototype.valueOf);
export const BooleanPrototypeValueOf = uncurryThis(Boolean.prototype.valueOf);
export const MapPrototypeForEach = uncurryThis(Map.prototype.forEach) as (m: Map<unknown, unknown>, f: (v: unknown, k: unknown) => void) => void;
export const SetPrototypeForEach = uncurryThis(Set.prototype.forEach) as (s: Set<unknown>, f: (v: unknown) => void) => void;
export const MapPrototypeGetSize = uncurryThis(ObjectGetOwnPropertyDescriptor(Map.prototype, 'size')!.get!) as (m: Map<unknown, unknown>) => number;
export const SetPrototypeGetSize = uncurryThis(ObjectGetOwnPropertyDescriptor(Set.prototype, 'size')!.get!) as (s: Set<unknown>) => number;
export const JSONStringify = JSON.stringify;
export const MathFloor = Math.floor;
export const MathMax = Math.max;
export const MathMin = Math.min;
export const MathRound = Math.round;
export const MathSqrt = Math.sqrt;
export const NumberIsFinite = Number.isFinite;
export const NumberIsInteger = Number.isInteger;
export const NumberParseInt = Number.parseInt;
export const NumberParseFloat = Number.parseFloat;
export const PromiseResolve = Promise.resolve.bind(Promise);
export const PromisePrototypeThen = uncurryThis(Promise.prototype.then) as (p: Promise<unknown>, f: () => void) => Promise<unknown>;
export const StringCtor = String;
export const NumberCtor = Number;
export const ObjectIs = Object.is;
export const TypedArrayPrototype = ObjectGetPrototypeOf(Uint8Array.prototype) as object;
export const TypedArrayPrototypeGetLength = uncurryThis(ObjectGetOwnPropertyDescriptor(TypedArrayPrototype, 'length')!.get!) as (a: ArrayLike<unknown>) => number;
export const TypedArrayPrototypeGetSymbolToStringTag = uncurryThis(
  ObjectGetOwnPropertyDescriptor(TypedArrayPrototype, Symbol.toStringTag)!.get!,
) as (a: unknown) => string | undefined;
export const ArrayBufferIsView = ArrayBuffer.isView;
export const ArrayBufferPrototypeGetByteLength = uncurryThis(ObjectGetOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength')!.get!) as (b: ArrayBuffer) => number;
export const Uint8ArrayCtor = Uint8Array;
export const SymbolIterator = Symbol.iterator;
export const SymbolToStringTag = Symbol.toStringTag;
export const MapCtor = Map;
export const MapPrototypeGet = uncurryThis(Map.prototype.get) as <K, V>(m: Map<K, V>, k: K) => V | undefined;
export const MapPrototypeSet = uncurryThis(Map.prototype.set) as <K, V>(m: Map<K, V>, k: K, v: V) => Map<K, V>;
export const MapPrototypeDelete = uncurryThis(Map.prototype.delete) as <K, V>(m: Map<K, V>, k: K) => boolean;
export const ErrorCtor = Error;
export const TypeErrorCtor = TypeError;
export const RangeErrorCtor = RangeError;
export const DateNow = Date.now;
