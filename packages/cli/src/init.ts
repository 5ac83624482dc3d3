// `kiln init [DIR] [--template http|hono]`: scaffolds a Kiln project that builds and runs with no
// edits — package.json (build/start/typecheck scripts), a tsconfig.json whose one line extends
// this Kiln's app tsconfig (kiln:* modules and the guest's globals typecheck), main.ts (a
// kiln:http server, or a Hono app on kiln:http) and .gitignore. Writes nothing if any of those
// files exists. Spec: docs/ARCHITECTURE.md "The CLI".

import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { CliError } from './errors.ts';
import { REPO_ROOT } from './paths.ts';

export const TEMPLATES = ['http', 'hono'] as const;
export type Template = (typeof TEMPLATES)[number];

/** The versions a new project pins: the TypeScript Kiln itself is checked with and the Hono its
 * compatibility suite runs (init.test.ts holds them to package.json and tests/compat/package.json). */
export const TYPESCRIPT_VERSION = '5.9.3';
export const HONO_VERSION = '4.13.23';

const MAIN: Record<Template, string> = {
  http: `// A web server on kiln:http (web-standard Request → Response), port 8080.
// Build: npm run build   Run: npm start   Then: curl http://127.0.0.1:8080/hello
import { serve } from 'kiln:http';

serve({ port: 8080 }, (request) => {
  const { pathname } = new URL(request.url);
  return Response.json({ message: 'Hello from Kiln', path: pathname });
});
`,
  hono: `// A Hono app served by kiln:http on port 8080.
// Build: npm run build   Run: npm start   Then: curl http://127.0.0.1:8080/hello/you
import { Hono } from 'hono';
import { serve } from 'kiln:http';

const app = new Hono();
app.get('/', (c) => c.text('Hello from Kiln and Hono'));
app.get('/hello/:name', (c) => c.json({ hello: c.req.param('name') }));
serve({ port: 8080 }, app.fetch);
`,
};

/** An npm package name from a directory name (lower case; characters npm refuses become "-"). */
function packageName(dir: string): string {
  const name = basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9._~-]+/g, '-').replace(/^[._-]+/, '');
  return name === '' ? 'kiln-app' : name.slice(0, 214);
}

export interface InitResult {
  dir: string;
  files: string[];
  /** What to run next, for the user. */
  next: string[];
}

export function initProject(dir: string, template: Template): InitResult {
  if (!TEMPLATES.includes(template)) throw new CliError('EUSAGE', `init: unknown --template ${JSON.stringify(template)} (choose ${TEMPLATES.join(' or ')})`);
  const root = resolve(dir);
  if (existsSync(root) && !statSync(root).isDirectory()) throw new CliError('EUSAGE', `init: ${dir} exists and is not a directory`);
  const pkg = {
    name: packageName(root),
    private: true,
    type: 'module',
    scripts: {
      build: 'kiln build main.ts -o build/app.elf',
      start: 'kiln run build/app.elf --net user,hostfwd=tcp:127.0.0.1:8080-:8080',
      typecheck: 'tsc --noEmit',
    },
    ...(template === 'hono' ? { dependencies: { hono: HONO_VERSION } } : {}),
    devDependencies: { typescript: TYPESCRIPT_VERSION },
  };
  const files: Record<string, string> = {
    'package.json': `${JSON.stringify(pkg, null, 2)}\n`,
    'tsconfig.json': `${JSON.stringify({ extends: join(REPO_ROOT, 'packages/kernel/tsconfig.app.json'), include: ['*.ts', 'src'] }, null, 2)}\n`,
    'main.ts': MAIN[template],
    '.gitignore': 'node_modules/\nbuild/\n*.elf\n',
  };
  const clash = Object.keys(files).filter((f) => existsSync(join(root, f)));
  if (clash.length > 0) throw new CliError('EUSAGE', `init: ${clash.map((f) => join(dir, f)).join(', ')} already exist${clash.length === 1 ? 's' : ''}; nothing was written`);
  mkdirSync(root, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
  const cd = relative(process.cwd(), root);
  return {
    dir: root,
    files: Object.keys(files),
    next: [
      ...(cd === '' ? [] : [`cd ${cd}`]),
      'npm install',
      'npm run build',
      'npm start',
    ],
  };
}
