// The VMM's side of `kiln profile`: while the guest runs, drains the sample ring every few
// milliseconds (so it never fills at 10 kHz), names each sample's frames while the functions
// they point at are alive (sample_frames.ts, guest_functions.ts; a function the bytecode leaves
// unnamed, such as a class method, is named from the image's function names: image_debug.ts), and merges equal stacks; at
// the end it hands over a Profile (profile.ts) for the renderers. Draining and naming happen on
// the VMM's main thread, never in the guest: the guest pays only for taking samples.

import type { GuestRam } from '../boot/guest_ram.ts';
import type { Frame, Profile, StackCount } from './profile.ts';
import { ProfileRing, type SampleRecord } from './ring.ts';
import { GuestFunctions, type JsFunctionInfo } from './guest_functions.ts';
import { ImageDebug } from './image_debug.ts';
import { ImageSymbols } from './image_symbols.ts';
import { KILN_PROFILE_SYMBOL } from './layout.ts';
import { sampleFrames, type FrameNamer } from './sample_frames.ts';

/** How often the ring is drained. */
const DRAIN_MS = 20;

export interface ProfileTarget {
  /** 'process' | 'kvm'. */
  platform: string;
  hz: number;
  image: Uint8Array;
  ram: GuestRam;
  /** The image's executable range. */
  textLo: number;
  textHi: number;
}

export class ProfileCollector {
  readonly #t: ProfileTarget;
  readonly symbols: ImageSymbols;
  /** The guest address of the core's descriptor (undefined: no JavaScript frames). */
  readonly descAddr: number | undefined;
  readonly #namer: FrameNamer;
  readonly #stacks = new Map<string, StackCount>();
  #ring: ProfileRing | undefined;
  #timer: NodeJS.Timeout | undefined;
  #samples = 0;
  #startMs = 0;
  #profile: Profile | undefined;

  constructor(t: ProfileTarget) {
    this.#t = t;
    this.symbols = ImageSymbols.fromImage(t.image);
    this.descAddr = this.symbols.addressOf(KILN_PROFILE_SYMBOL);
    const functions = this.descAddr === undefined ? undefined : new GuestFunctions(t.ram, this.descAddr);
    const debug = new ImageDebug(t.image);
    this.#namer = {
      symbols: this.symbols,
      textLo: t.textLo,
      textHi: t.textHi,
      jsFunction: (ptr) => debug.named(functions?.resolve(ptr) ?? { name: '[js]' }),
      jsLocation: (fn: JsFunctionInfo) => (fn.file === undefined || fn.line === undefined ? undefined : debug.location(fn.file, fn.line)),
    };
  }

  /** What the user should know before the samples (a missing symbol table or descriptor). */
  get warnings(): string[] {
    const w = this.symbols.warning ? [this.symbols.warning] : [];
    if (this.descAddr === undefined && !this.symbols.warning) w.push(`the image's core has no ${KILN_PROFILE_SYMBOL} descriptor: samples have no JavaScript frames (rebuild the image with this kiln)`);
    return w;
  }

  /** Starts draining `ring` (the sampler was started on it). */
  start(ring: ProfileRing): void {
    this.#ring = ring;
    this.#startMs = performance.now();
    this.#timer = setInterval(() => this.#drain(), DRAIN_MS);
    this.#timer.unref();
  }

  #drain(): void {
    this.#ring?.drain((r) => this.#add(r));
  }

  #add(r: SampleRecord): void {
    const frames: Frame[] = sampleFrames(r, this.#namer);
    const key = frames.map((f) => `${f.kind}\0${f.name}\0${f.location ?? ''}`).join('\x01');
    const s = this.#stacks.get(key);
    if (s) s.count++;
    else this.#stacks.set(key, { frames, count: 1 });
    this.#samples++;
  }

  /** Stops sampling (the guest's RAM must still be mapped: the last samples are named now) and returns the profile; later calls return the same one. */
  finish(stopped: string): Profile {
    if (this.#profile) return this.#profile;
    if (this.#timer) clearInterval(this.#timer);
    const ring = this.#ring;
    ring?.pause();
    this.#drain();
    const corrupt = ring?.broken;
    this.#profile = {
      platform: this.#t.platform,
      hz: this.#t.hz,
      durationMs: ring ? performance.now() - this.#startMs : 0,
      samples: this.#samples,
      dropped: ring ? Math.max(0, ring.taken - this.#samples) + ring.dropped : 0,
      stacks: [...this.#stacks.values()],
      stopped: corrupt ? `${stopped}; ${corrupt}` : stopped,
    };
    return this.#profile;
  }
}
