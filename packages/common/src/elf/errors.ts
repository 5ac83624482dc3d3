// Typed error for images and ELF files read from untrusted bytes.
// Every failure of the ELF reader, the payload decoder and the image assembler is an
// ImageError with a stable `code`; messages may improve, codes stay. `kiln run` maps
// these to exit code 126 (docs/ARCHITECTURE.md, "Exit codes").

export type ImageErrorCode =
  | 'EBADIMAGE' // not an ELF64 little-endian file, or a malformed header/table
  | 'ETRUNCATED' // a header, table or segment points past the end of the bytes
  | 'EUNSUPPORTED' // valid ELF but not what Kiln boots (machine, type)
  | 'ENOSYMBOL' // a required symbol is missing (e.g. __payload_start)
  | 'EOVERLAP' // segments overlap where they must not
  | 'EBADPAYLOAD'; // the Kiln payload segment is malformed

export class ImageError extends Error {
  readonly code: ImageErrorCode;
  constructor(code: ImageErrorCode, message: string) {
    super(message);
    this.name = 'ImageError';
    this.code = code;
  }
}
