import { ulid, decodeTime, monotonicFactory } from 'ulid';
const id = ulid(1700000000000);
console.log(id.length, id.slice(0, 10), decodeTime(id));
const next = monotonicFactory();
const a = next(1700000000000), b = next(1700000000000);
console.log(a < b, a.slice(0, 10) === b.slice(0, 10), /^[0-9A-HJKMNP-TV-Z]{26}$/.test(ulid()));
