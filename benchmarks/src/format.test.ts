import { describe, expect, it } from 'vitest'
import {
  formatCount,
  formatNs,
  formatRate,
  formatRatio,
  formatSpread,
  formatSpreadOf,
} from './format.js'

describe('format', () => {
  it('picks units', () => {
    expect(formatNs(829)).toBe('829 ns')
    expect(formatNs(12_345)).toBe('12.3 µs')
    expect(formatNs(1_234_567)).toBe('1.23 ms')
    expect(formatNs(2.5e9)).toBe('2.50 s')
    expect(formatNs(Number.NaN)).toBe('—')
    expect(formatRate(1_210_000)).toBe('1.21 M/s')
    expect(formatRate(45_600)).toBe('45.6 k/s')
    expect(formatRate(812.2)).toBe('812 /s')
  })

  it('formats ratios, spreads and counts', () => {
    expect(formatRatio(4.8)).toBe('4.80×')
    expect(formatRatio(12.34)).toBe('12.3×')
    expect(formatRatio(null)).toBe('—')
    expect(formatSpread(0.1)).toBe('±5.0%')
    expect(formatSpreadOf({ spread: 0.1, reps: [1, 2] })).toBe('±5.0%')
    expect(formatSpreadOf({ spread: 0, reps: [1] })).toBe('n/a')
    expect(formatCount(1234567)).toBe('1,234,567')
  })
})
