import { describe, expect, it } from 'vitest'
import { AlexTypeError, ErrorCode, InvariantError, invalidKey, invalidValue } from './errors.js'

describe('errors', () => {
  it('are TypeErrors with stable codes and readable messages', () => {
    const e = invalidKey(1n)
    expect(e).toBeInstanceOf(TypeError)
    expect(e).toBeInstanceOf(AlexTypeError)
    expect(e.code).toBe(ErrorCode.INVALID_KEY)
    expect(e.message).toContain('1n (bigint)')
    expect(invalidKey('x').message).toContain('"x" (string)')
    expect(invalidValue(undefined).code).toBe('ERR_INVALID_VALUE')
  })

  it('InvariantError names the invariant', () => {
    const e = new InvariantError('gap-fill', 'gap 3 holds 1')
    expect(e.code).toBe('ERR_INVARIANT')
    expect(e.invariant).toBe('gap-fill')
    expect(e.message).toBe('invariant gap-fill broken: gap 3 holds 1')
  })
})
