// node:http taken through process.getBuiltinModule() instead of `import … from 'node:http'`.
// An ES import makes Node build the module's ESM facade, which reads every export, lazy getters
// included, and one of those loads Node's own bundled copy of undici (for its WebSocket
// exports). Measured on Node 24.21: +14 MB RSS and +2.4 MB of V8 heap in every process that
// does it, heap that each full GC then walks again. Type-only imports are erased and stay as
// they are.
export const http = process.getBuiltinModule('node:http');
