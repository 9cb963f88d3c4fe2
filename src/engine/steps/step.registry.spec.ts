import { describe, expect, it } from '@jest/globals';

import type { StepBase } from '../definition.types.js';
import type { StepHandler } from './step-handler.interface.js';
import { findStepHandler, STEP_HANDLERS, STEP_TYPES, stepHasSideEffects } from './step.registry.js';

interface ProbeStep extends StepBase {
  type: 'probe';
}

// A step type that does not say whether it has side effects does not compile: without its checkpoint written
// at once, a side effect would be repeated after a crash.
// @ts-expect-error sideEffects is required
const withoutSideEffects: StepHandler<ProbeStep> = {
  type: 'probe',
  noun: 'a probe step',
  keys: [],
  parse: (_raw, id) => ({ id, type: 'probe' }),
  run: { kind: 'attempts', execute: () => Promise.resolve({ output: null }) },
};

describe('step registry', () => {
  it('lists each type once, under the name its handler declares', () => {
    expect(new Set(STEP_TYPES).size).toBe(STEP_HANDLERS.length);
    for (const handler of STEP_HANDLERS) expect(findStepHandler(handler.type)).toBe(handler);
    expect(findStepHandler('probe')).toBeUndefined();
    expect(findStepHandler('__proto__')).toBeUndefined();
    expect(withoutSideEffects.type).toBe('probe');
  });

  it("answers stepHasSideEffects with each handler's own flag", () => {
    for (const handler of STEP_HANDLERS) expect(stepHasSideEffects(handler.type)).toBe(handler.sideEffects);
  });

  it('flags the steps that act outside the run: http requests and delays', () => {
    const flagged = STEP_HANDLERS.filter((handler) => handler.sideEffects).map((handler) => handler.type);
    expect(flagged.sort()).toEqual(['delay', 'http']);
  });

  it('refuses a type it does not know', () => {
    expect(() => stepHasSideEffects('probe' as never)).toThrow('unknown step type "probe"');
  });
});
