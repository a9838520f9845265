/**
 * `1234567.891` → `1,234,567.891`: what `toLocaleString('en-US')` prints (at most three decimals),
 * without loading ICU's locale data into the process (≈ 6 MB, zoneinfo.ts).
 */
export function groupDigits(value: number): string {
  if (!Number.isFinite(value) || Math.abs(value) >= 1e21) return String(value);
  const abs = Math.abs(value);
  const rounded = Number.isInteger(abs) ? abs : Math.round(abs * 1000) / 1000;
  const [whole = '0', fraction] = String(rounded).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  return `${sign}${grouped}${fraction ? `.${fraction}` : ''}`;
}
