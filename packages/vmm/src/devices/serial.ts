// 16550A UART model for the console at 0x3f8 (IRQ 4): transmit goes to a byte sink, the line
// is always ready (LSR THRE|TEMT), and the registers Linux's 8250 driver probes behave: DLAB
// divisor latch, IER/IIR with THR-empty and RX interrupts, FIFO bits in IIR, LCR, MCR with
// loopback (MSR mirrors MCR), scratch. Spec: TI PC16550D datasheet; Firecracker/vm-superio.

import type { BusDevice } from './bus.ts';

// Register offsets (DLAB=0 / DLAB=1)
export const UART_RX = 0; // read: receive buffer
export const UART_TX = 0; // write: transmit holding
export const UART_DLL = 0; // DLAB=1
export const UART_IER = 1;
export const UART_DLM = 1; // DLAB=1
export const UART_IIR = 2; // read
export const UART_FCR = 2; // write
export const UART_LCR = 3;
export const UART_MCR = 4;
export const UART_LSR = 5;
export const UART_MSR = 6;
export const UART_SCR = 7;

export const UART_IER_RDI = 0x01;
export const UART_IER_THRI = 0x02;
export const UART_IIR_NO_INT = 0x01;
export const UART_IIR_THRI = 0x02;
export const UART_IIR_RDI = 0x04;
export const UART_IIR_FIFO_BITS = 0xc0;
export const UART_FCR_ENABLE_FIFO = 0x01;
export const UART_LCR_DLAB = 0x80;
export const UART_MCR_DTR = 0x01;
export const UART_MCR_RTS = 0x02;
export const UART_MCR_OUT1 = 0x04;
export const UART_MCR_OUT2 = 0x08;
export const UART_MCR_LOOP = 0x10;
export const UART_LSR_DR = 0x01;
export const UART_LSR_THRE = 0x20;
export const UART_LSR_TEMT = 0x40;
export const UART_MSR_CTS = 0x10;
export const UART_MSR_DSR = 0x20;
export const UART_MSR_RI = 0x40;
export const UART_MSR_DCD = 0x80;

export interface ByteSink {
  write(data: Uint8Array): unknown;
}

export class Serial implements BusDevice {
  #dll = 0x0c; // 9600 baud, the usual reset divisor
  #dlm = 0;
  #ier = 0;
  #lcr = 0x03; // 8N1
  #mcr = UART_MCR_OUT2;
  #scr = 0;
  #fifo = false;
  #threPending = false;
  readonly #input: number[] = [];
  #out: number[] = [];
  #flushScheduled = false;
  readonly #sink: ByteSink;
  readonly #irq: () => void;
  /** Bytes transmitted so far. */
  txBytes = 0;

  /** `irq` is called for each interrupt edge the UART raises (wire it to IRQ 4). */
  constructor(sink: ByteSink, irq: () => void = () => {}) {
    this.#sink = sink;
    this.#irq = irq;
  }

  read(offset: number, data: Uint8Array): void {
    data.fill(0);
    data[0] = this.#readReg(offset);
  }

  write(offset: number, data: Uint8Array): void {
    this.#writeReg(offset, data[0] ?? 0);
    if (offset === UART_IER || offset === UART_LCR || offset === UART_MCR) this.#updatePlainOutput();
  }

  /**
   * True while a THR write is nothing but an output byte: no divisor latch (DLAB), no loopback
   * and no THR-empty interrupt to raise. While it holds the VMM may send THR writes past this
   * model (the vCPU thread's console fast path); `onPlainOutputChange` announces each change,
   * after buffered output has been flushed so bytes stay in order.
   */
  get plainOutput(): boolean {
    return !(this.#lcr & UART_LCR_DLAB) && !(this.#mcr & UART_MCR_LOOP) && !(this.#ier & UART_IER_THRI);
  }

  onPlainOutputChange: ((plain: boolean) => void) | undefined;
  #plain = this.plainOutput;

  #updatePlainOutput(): void {
    const plain = this.plainOutput;
    if (plain === this.#plain) return;
    this.flush();
    this.#plain = plain;
    this.onPlainOutputChange?.(plain);
  }

  /** Queues bytes for the guest to read (console input). */
  enqueueInput(bytes: Uint8Array): void {
    const wasEmpty = this.#input.length === 0;
    this.#input.push(...bytes);
    if (wasEmpty && bytes.length > 0 && this.#ier & UART_IER_RDI) this.#irq();
  }

  /** Writes buffered output to the sink now. */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#out.length === 0) return;
    const chunk = Uint8Array.from(this.#out);
    this.#out = [];
    this.#sink.write(chunk);
  }

  #readReg(offset: number): number {
    const dlab = (this.#lcr & UART_LCR_DLAB) !== 0;
    switch (offset) {
      case UART_RX:
        if (dlab) return this.#dll;
        return this.#input.shift() ?? 0;
      case UART_IER:
        return dlab ? this.#dlm : this.#ier;
      case UART_IIR: {
        const fifo = this.#fifo ? UART_IIR_FIFO_BITS : 0;
        if (this.#ier & UART_IER_RDI && this.#input.length > 0) return fifo | UART_IIR_RDI;
        if (this.#ier & UART_IER_THRI && this.#threPending) {
          this.#threPending = false; // reading IIR acknowledges THRE
          return fifo | UART_IIR_THRI;
        }
        return fifo | UART_IIR_NO_INT;
      }
      case UART_LCR:
        return this.#lcr;
      case UART_MCR:
        return this.#mcr;
      case UART_LSR:
        return UART_LSR_THRE | UART_LSR_TEMT | (this.#input.length > 0 ? UART_LSR_DR : 0);
      case UART_MSR:
        if (this.#mcr & UART_MCR_LOOP) {
          return (
            (this.#mcr & UART_MCR_DTR ? UART_MSR_DSR : 0) |
            (this.#mcr & UART_MCR_RTS ? UART_MSR_CTS : 0) |
            (this.#mcr & UART_MCR_OUT1 ? UART_MSR_RI : 0) |
            (this.#mcr & UART_MCR_OUT2 ? UART_MSR_DCD : 0)
          );
        }
        return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
      case UART_SCR:
        return this.#scr;
      default:
        return 0;
    }
  }

  #writeReg(offset: number, v: number): void {
    const dlab = (this.#lcr & UART_LCR_DLAB) !== 0;
    switch (offset) {
      case UART_TX:
        if (dlab) {
          this.#dll = v;
          return;
        }
        if (this.#mcr & UART_MCR_LOOP) {
          this.enqueueInput(Uint8Array.of(v));
        } else {
          this.#transmit(v);
        }
        this.#threPending = true;
        if (this.#ier & UART_IER_THRI) this.#irq();
        return;
      case UART_IER:
        if (dlab) {
          this.#dlm = v;
          return;
        }
        {
          const was = this.#ier;
          this.#ier = v & 0x0f;
          if (this.#ier & UART_IER_THRI && !(was & UART_IER_THRI)) {
            this.#threPending = true;
            this.#irq();
          }
          if (this.#ier & UART_IER_RDI && !(was & UART_IER_RDI) && this.#input.length > 0) this.#irq();
        }
        return;
      case UART_FCR:
        this.#fifo = (v & UART_FCR_ENABLE_FIFO) !== 0;
        return;
      case UART_LCR:
        this.#lcr = v;
        return;
      case UART_MCR:
        this.#mcr = v & 0x1f;
        return;
      case UART_SCR:
        this.#scr = v;
        return;
      default:
        return; // LSR, MSR: read-only
    }
  }

  #transmit(byte: number): void {
    this.txBytes++;
    this.#out.push(byte);
    if (byte === 0x0a || this.#out.length >= 4096) {
      this.flush();
    } else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }
}
