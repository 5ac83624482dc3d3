import { nanoid, customAlphabet } from 'nanoid';
const ids = Array.from({ length: 100 }, () => nanoid());
console.log(ids.every((id) => /^[A-Za-z0-9_-]{21}$/.test(id)), new Set(ids).size);
const hex = customAlphabet('0123456789abcdef', 12);
console.log(/^[0-9a-f]{12}$/.test(hex()), nanoid(5).length);
