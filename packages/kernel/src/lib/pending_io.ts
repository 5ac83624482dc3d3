// The read() and write() calls a stream connection keeps waiting (kiln:net's TcpStream and
// kiln:vsock's connection): a reader waits for bytes to copy into its buffer (null at the end), a
// writer for room for the rest of its bytes (`at` of them taken so far).

export interface PendingRead {
  buf: Uint8Array;
  resolve(n: number | null): void;
  reject(e: Error): void;
}

export interface PendingWrite {
  bytes: Uint8Array;
  at: number;
  resolve(n: number): void;
  reject(e: Error): void;
}
