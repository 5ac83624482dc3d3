// @kiln/common: pure TypeScript shared by the CLI, the VMM and tests (no Node APIs).
// ELF64 reader/writer, the Kiln image payload format and assembler, the bootfs and line map formats, UTF-8, guest layout constants,
// virtio definitions (virtio/) shared by the guest drivers and the VMM devices.
// Spec: docs/ARCHITECTURE.md "Contracts between the parts".

export * from './elf/constants.ts';
export * from './elf/errors.ts';
export * from './elf/reader.ts';
export * from './elf/writer.ts';
export * from './image/payload.ts';
export * from './image/assemble.ts';
export * from './image/bootfs.ts';
export * from './image/line_map.ts';
export * from './image/function_names.ts';
export * from './text/utf8.ts';
export * from './layout.ts';
export * from './virtio/index.ts';
