/** The decimal number written by `length` ASCII digits at `start` (the caller has checked they are digits). */
export function digits(text: string, start: number, length: number): number {
  let n = 0;
  for (let i = start; i < start + length; i++) n = n * 10 + text.charCodeAt(i) - 48;
  return n;
}
