/** Luhn checksum over a string of digits (payment cards, SIREN, SIRET). */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (d < 0 || d > 9) return false;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** ISO 13616 IBAN check: move the first four characters to the end, letters → numbers, mod 97 = 1. */
export function ibanValid(iban: string): boolean {
  const compact = iban.replace(/ /g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(compact)) return false;
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const value = ch >= 'A' ? ch.charCodeAt(0) - 55 : ch.charCodeAt(0) - 48;
    remainder = (remainder * (value > 9 ? 100 : 10) + value) % 97;
  }
  return remainder === 1;
}

/**
 * French NIR (numéro de sécurité sociale): 13 characters + a 2-digit key, key = 97 − (n mod 97);
 * for Corsica the department 2A counts as 19 and 2B as 18 in n.
 */
export function nirValid(nir: string): boolean {
  const compact = nir.replace(/ /g, '').toUpperCase();
  const match = /^([12]\d{4})(\d{2}|2A|2B)(\d{6})(\d{2})$/.exec(compact);
  if (!match) return false;
  const department = match[2] === '2A' ? '19' : match[2] === '2B' ? '18' : match[2]!;
  const body = BigInt(`${match[1]}${department}${match[3]}`);
  return 97n - (body % 97n) === BigInt(match[4]!);
}
