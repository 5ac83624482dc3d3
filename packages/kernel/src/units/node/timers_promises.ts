// `node:timers/promises`: units/node/timers.ts's promises.
import { promises } from './timers.ts';

export const { setTimeout, setImmediate } = promises;
export default promises;
