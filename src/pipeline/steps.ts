import type { NamedStep } from './runner.js';
import { clampTimestamp } from './steps/clampTimestamp.js';
import { maskPersonalData } from './steps/maskPersonalData.js';
import { putDevice } from './steps/putDevice.js';
import { putGeolocation } from './steps/putGeolocation.js';
import { putPage } from './steps/putPage.js';
import { putProps } from './steps/putProps.js';
import { putReferrer } from './steps/putReferrer.js';
import { putVisitorHash } from './steps/putVisitorHash.js';

/**
 * The order of the collect pipeline, in one place (docs/architecture.md):
 * validate (at the edge, by schema) → enrich → privacy → store (at the edge, by the writer).
 */
export const COLLECT_STEPS: readonly NamedStep[] = [
  { name: 'clampTimestamp', run: clampTimestamp },
  { name: 'putPage', run: putPage },
  { name: 'putReferrer', run: putReferrer },
  { name: 'putDevice', run: putDevice },
  { name: 'putGeolocation', run: putGeolocation },
  { name: 'putVisitorHash', run: putVisitorHash },
  { name: 'putProps', run: putProps },
  { name: 'maskPersonalData', run: maskPersonalData },
];
