/** The decimal number written by `length` ASCII digits at `start` (the caller has checked they are digits). */
export function digits(text: string, start: number, length: number): number {
  let n = 0;
  for (let i = start; i < start + length; i++) n = n * 10 + text.charCodeAt(i) - 48;
  return n;
}

/** Written out, so that each is the exact double whatever `**` does. */
const POWERS_OF_TEN = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * The number `text[start, end)` writes (ASCII digits and at most one `.`, as the
 * caller has checked), exactly as `Number()` reads it. Read in place: `Number()`
 * wants a string of its own, and hashes it first.
 */
export function decimal(text: string, start: number, end: number): number {
  const dot = text.indexOf('.', start);
  if (dot === -1 || dot >= end) return end - start <= 15 ? digits(text, start, end - start) : Number(text.slice(start, end));
  const fraction = end - dot - 1;
  // At most 15 digits make an exact integer and a power of ten up to 10^22 is exact, so one
  // division rounds once: to the double nearest the decimal, which is what Number() gives.
  if (end - start - 1 > 15) return Number(text.slice(start, end));
  return withFraction(digits(text, start, dot - start), digits(text, dot + 1, fraction), fraction);
}

/** The number a decimal writes with the integer `whole` before its point and `places` digits writing `fraction` after (at most 15 digits in all). */
export function withFraction(whole: number, fraction: number, places: number): number {
  const scale = POWERS_OF_TEN[places]!;
  return (whole * scale + fraction) / scale;
}

/** The decimal number the ASCII digits `bytes[start, end)` write (the caller has checked they are digits). */
export function byteDigits(bytes: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) n = n * 10 + bytes[i]! - 48;
  return n;
}
