/** Hosts are named n1, n2, … in the order the scenario starts or adds them; n1 → 1, n12 → 12. */
export function hostIndex(name: string): number {
  const n = Number(name.replace(/^n/, ''));
  if (!Number.isInteger(n) || n < 1 || n > 200) throw new RangeError(`bad host name ${name}`);
  return n;
}
