import type { Step } from './step.js';
import { clampTimestamp } from './steps/clampTimestamp.js';
import { maskPersonalData } from './steps/maskPersonalData.js';
import { putCampaign } from './steps/putCampaign.js';
import { putDevice } from './steps/putDevice.js';
import { putGeolocation } from './steps/putGeolocation.js';
import { putPage } from './steps/putPage.js';
import { putProps } from './steps/putProps.js';
import { putReferrer } from './steps/putReferrer.js';
import { putScreen } from './steps/putScreen.js';
import { putVisitorHash } from './steps/putVisitorHash.js';

/**
 * The steps of the one pipeline, in order, for live events and imports alike
 * (docs/pipeline.md): validate (at the edge, by schema) → enrich → privacy → store (at the
 * edge, by the writer or the importer).
 */
export const PIPELINE_STEPS: readonly Step[] = [
  clampTimestamp,
  putPage,
  putCampaign,
  putReferrer,
  putDevice,
  putScreen,
  putGeolocation,
  putVisitorHash,
  putProps,
  maskPersonalData,
];
