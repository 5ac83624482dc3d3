// env: prints the guest environment variables named by its arguments, one `NAME=value` line each
// (`kiln run env.elf --env GREETING=hi -- GREETING` → `GREETING=hi`), `NAME is not set` for a
// missing one. Shows kiln:process env, which `kiln run --env NAME=VALUE` fills.

import { args, env } from 'kiln:process';

for (const name of args) console.log(name in env ? `${name}=${env[name]}` : `${name} is not set`);
