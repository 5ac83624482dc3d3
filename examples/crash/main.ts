// crash: throws an Error from a nested call; the guest prints it with a stack of several frames in
// this file's lines (main.ts:6, the throw) and exits with code 1. tests/e2e checks those lines.

function parseConfig(text: string): { port: number } {
  const port = Number(text);
  if (!Number.isInteger(port)) throw new Error(`bad port: ${JSON.stringify(text)}`);
  return { port };
}

function loadConfig(): { port: number } {
  return parseConfig('eighty');
}

function main(): void {
  console.log('starting');
  const config = loadConfig();
  console.log('listening on', config.port);
}

main();
