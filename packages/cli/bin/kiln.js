#!/usr/bin/env node
// kiln command entry: registers tsx so the CLI's TypeScript sources run directly under Node,
// then hands over to src/main.ts. Mapped as the `kiln` bin in the root package.json.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
