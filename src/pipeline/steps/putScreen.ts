import type { EventRow } from '../../store/row.js';
import { NOTHING, set, type Step } from '../step.js';

/**
 * The screen class of the browser window's width, as Plausible names them: `mobile` (under 576
 * CSS pixels), `tablet` (under 992), `laptop` (under 1440), `desktop`. Only the class is kept,
 * never the width.
 */
export function screenClass(width: number): NonNullable<EventRow['screenClass']> {
  return width < 576 ? 'mobile' : width < 992 ? 'tablet' : width < 1440 ? 'laptop' : 'desktop';
}

/** Keeps the screen class of the window the script measured (nothing for imports and zero widths). */
export const putScreen: Step = {
  name: 'putScreen',
  reads: ['viewportWidth'],
  skip: ['dns'],
  run({ raw }) {
    const width = raw.viewportWidth;
    return width ? set({ screenClass: screenClass(width) }) : NOTHING;
  },
};
