import { createRequire } from 'node:module';

// ISO 3166-2:FR region codes → INSEE region codes (the key of @etalab/decoupage-administratif).
const FR_REGIONS: Record<string, string> = {
  'FR-ARA': '84',
  'FR-BFC': '27',
  'FR-BRE': '53',
  'FR-CVL': '24',
  'FR-COR': '94',
  'FR-GES': '44',
  'FR-HDF': '32',
  'FR-IDF': '11',
  'FR-NOR': '28',
  'FR-NAQ': '75',
  'FR-OCC': '76',
  'FR-PDL': '52',
  'FR-PAC': '93',
  'FR-971': '01',
  'FR-972': '02',
  'FR-973': '03',
  'FR-974': '04',
  'FR-976': '06',
};

let regionNames: Map<string, string> | undefined;

function frenchRegionNames(): Map<string, string> {
  if (!regionNames) {
    // Official names from the INSEE-based package (Licence Ouverte), loaded on first use.
    const require = createRequire(import.meta.url);
    const regions = require('@etalab/decoupage-administratif/data/regions.json') as {
      code: string;
      nom: string;
    }[];
    const byInsee = new Map(regions.map((r) => [r.code, r.nom]));
    regionNames = new Map(
      Object.entries(FR_REGIONS).flatMap(([iso, insee]) =>
        byInsee.has(insee) ? [[iso, byInsee.get(insee)!]] : [],
      ),
    );
  }
  return regionNames;
}

// Made at the first country label, not when the module loads: Intl's names load ICU's locale
// data (≈ 6 MB, src/zoneinfo.ts) into a process that may never label a country.
let countryNames: Intl.DisplayNames | undefined;

/** A readable label for a breakdown value, where one exists: `FR-IDF` → `Île-de-France`, `FR` → `France`. */
export function labelFor(dimension: string, value: string): string | undefined {
  if (dimension === 'region') return frenchRegionNames().get(value);
  if (dimension === 'country' && /^[A-Z]{2}$/.test(value)) {
    countryNames ??= new Intl.DisplayNames(['en'], { type: 'region' });
    const name = countryNames.of(value);
    return name && name !== value ? name : undefined;
  }
  return undefined;
}
