// hello: the smallest Kiln app. Prints one line and returns; the event loop drains and the
// VM exits with code 0 (Node's semantics). Used by tests/e2e and bench/boot.ts.

console.log('Hello from Kiln');
