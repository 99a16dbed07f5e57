/**
 * A copy of `value` that shares no memory with it. `Uint8Array.prototype.slice` copies, but a
 * Node `Buffer` overrides `slice` to return a view of the same memory, so `value.slice()` kept a
 * caller's Buffer alive and let later writes to it change a stored value in the in-memory
 * references.
 */
export function copyBytes(value: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(value)
}
