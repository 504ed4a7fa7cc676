/**
 * piscina worker entry of the one-row split (src/engine/row-split.ts): a thin adapter. Its one
 * task is the helper's loop, which returns when the engine closes or after a second without calls.
 */
import { runRowSplitHelper, type RowSplitSetup } from '../src/engine/row-split.js';

export default function rowSplit(setup: RowSplitSetup): void {
  runRowSplitHelper(setup);
}
