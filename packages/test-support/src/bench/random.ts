/**
 * Seeded random numbers, so every engine sees the same keys, values and operation sequence.
 * sfc32 (small fast counter) for uniform draws; a YCSB-style scrambled zipfian; lognormal.
 */

/** A seeded uniform generator: `next()` returns a float in [0, 1). */
export class Random {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number) {
    this.a = 0x9e3779b9
    this.b = 0x243f6a88
    this.c = 0xb7e15162
    this.d = seed >>> 0
    for (let i = 0; i < 15; i++) this.nextUint32()
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** A uniform float in [0, 1) with 53 bits of randomness. */
  next(): number {
    return (this.nextUint32() * 2 ** 21 + (this.nextUint32() >>> 11)) / 2 ** 53
  }

  /** A uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** A standard normal draw (Box-Muller). */
  normal(): number {
    let u = 0
    while (u === 0) u = this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next())
  }
}

/** A 32-bit integer hash (murmur3's finaliser): spreads consecutive inputs. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b)
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
  return (x ^ (x >>> 16)) >>> 0
}

/**
 * Zipfian ranks over [0, n) with skew `theta` (YCSB's default 0.99), by Gray et al.'s method
 * as in YCSB's ZipfianGenerator. Rank 0 is the most popular; {@link ScrambledZipf} spreads the
 * popular ranks over the key space.
 */
export class Zipf {
  private readonly n: number
  private readonly alpha: number
  private readonly zetan: number
  private readonly eta: number
  private readonly half: number

  constructor(n: number, theta = 0.99) {
    this.n = n
    let zetan = 0
    for (let i = 1; i <= n; i++) zetan += 1 / i ** theta
    const zeta2 = 1 + 1 / 2 ** theta
    this.zetan = zetan
    this.alpha = 1 / (1 - theta)
    this.eta = (1 - (2 / n) ** (1 - theta)) / (1 - zeta2 / zetan)
    this.half = 1 + 0.5 ** theta
  }

  /** The next rank in [0, n). */
  next(random: Random): number {
    const u = random.next()
    const uz = u * this.zetan
    if (uz < 1) return 0
    if (uz < this.half) return Math.min(1, this.n - 1)
    const r = Math.floor(this.n * (this.eta * u - this.eta + 1) ** this.alpha)
    return r >= this.n ? this.n - 1 : r
  }
}

/** Zipfian over [0, n) with the popular items scattered by a hash, as YCSB's scrambled zipfian. */
export class ScrambledZipf {
  private readonly zipf: Zipf
  private readonly n: number

  constructor(n: number, theta = 0.99) {
    this.zipf = new Zipf(n, theta)
    this.n = n
  }

  /** The next item in [0, n). */
  next(random: Random): number {
    return mix32(this.zipf.next(random)) % this.n
  }
}
