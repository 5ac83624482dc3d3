// exit-code: exits with the number given as its first argument (`kiln run app.elf -- 42` → 42).
// Shows kiln:process args and exit; tests/e2e use it to check exit codes end to end.
// No or invalid argument → a usage message and exit code 2.

import process, { args } from 'kiln:process';

const arg = args[0];
const code = arg !== undefined && /^[0-9]{1,3}$/.test(arg) ? Number(arg) : NaN;
if (!(code >= 0 && code <= 255)) {
  console.log(`usage: exit-code <0-255>, got ${arg === undefined ? 'no argument' : JSON.stringify(arg)}`);
  process.exit(2);
}
console.log(`exiting with ${code}`);
process.exit(code);
