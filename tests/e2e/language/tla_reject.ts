// @ts-nocheck -- guest code for ES2024 lib types and top-level await; the root tsconfig checks ES2022 Node code
// A rejected top-level await (built by tests/e2e/language.test.ts): the VM reports it and exits 1.
console.log('before');
await Promise.reject(new RangeError('rejected at the top level'));
console.log('never');
