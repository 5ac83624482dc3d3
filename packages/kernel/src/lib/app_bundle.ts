// The name of the app's bundle, as kiln build defines it (__KILN_APP__, packages/cli/src/build.ts
// bundleName: `main.js` for main.ts): the script name the engine gives every frame of the bundle
// in a stack (`at f (main.js:12)`), and process.argv[1]. 'app.js' where nothing defines it (Node tests).

declare const __KILN_APP__: string;

export const APP_BUNDLE = typeof __KILN_APP__ === 'string' ? __KILN_APP__ : 'app.js';
