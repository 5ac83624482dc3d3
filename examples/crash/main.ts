// crash: throws an Error from a nested call, so the guest prints the error with a stack that
// shows several frames and exits with code 1 (uncaught error). Used by tests/e2e.

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
