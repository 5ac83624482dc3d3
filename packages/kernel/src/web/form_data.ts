// FormData (WHATWG XMLHttpRequest §5): an ordered list of name → string or File entries. A Blob
// appended becomes a File named "blob" (or the filename given); names and string values are kept
// as given. Installed as a global by install_form_data.ts; bodies serialise and parse it with
// multipart.ts (multipart/form-data) and URLSearchParams (application/x-www-form-urlencoded).

import { Blob, File, blobBytes, fileOf } from './blob.ts';

export type FormDataEntryValue = string | File;

function entryValue(value: unknown, filename: string | undefined): FormDataEntryValue {
  if (!(value instanceof Blob)) return String(value);
  const name = filename !== undefined ? String(filename) : value instanceof File ? value.name : 'blob';
  if (value instanceof File && filename === undefined) return value;
  return fileOf(blobBytes(value), name, value.type, value instanceof File ? value.lastModified : undefined);
}

export class FormData {
  private readonly _entries: [string, FormDataEntryValue][] = [];

  constructor(form?: unknown) {
    if (form !== undefined) throw new TypeError("Failed to construct 'FormData': Kiln has no HTML form elements to read");
  }

  append(name: string, value: string | Blob, filename?: string): void {
    this._entries.push([String(name), entryValue(value, filename)]);
  }

  set(name: string, value: string | Blob, filename?: string): void {
    const n = String(name);
    const entry: [string, FormDataEntryValue] = [n, entryValue(value, filename)];
    const first = this._entries.findIndex((e) => e[0] === n);
    if (first < 0) {
      this._entries.push(entry);
      return;
    }
    this._entries[first] = entry;
    for (let i = this._entries.length - 1; i > first; i--) if (this._entries[i]![0] === n) this._entries.splice(i, 1);
  }

  delete(name: string): void {
    const n = String(name);
    for (let i = this._entries.length - 1; i >= 0; i--) if (this._entries[i]![0] === n) this._entries.splice(i, 1);
  }

  get(name: string): FormDataEntryValue | null {
    const n = String(name);
    const e = this._entries.find((x) => x[0] === n);
    return e === undefined ? null : e[1];
  }

  getAll(name: string): FormDataEntryValue[] {
    const n = String(name);
    return this._entries.filter((x) => x[0] === n).map((x) => x[1]);
  }

  has(name: string): boolean {
    const n = String(name);
    return this._entries.some((x) => x[0] === n);
  }

  forEach(callback: (value: FormDataEntryValue, key: string, parent: FormData) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) callback.call(thisArg, v, k, this);
  }

  *entries(): IterableIterator<[string, FormDataEntryValue]> {
    // Live: entries appended or deleted during the iteration are seen, as in browsers.
    for (let i = 0; i < this._entries.length; i++) yield [this._entries[i]![0], this._entries[i]![1]];
  }

  *keys(): IterableIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): IterableIterator<FormDataEntryValue> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): IterableIterator<[string, FormDataEntryValue]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'FormData';
  }
}
