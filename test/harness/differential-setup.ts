// Setup file of the main project: every client the tests connect sends its calls through the
// differential engine (differential-engine.ts), and a test file fails if any call disagreed.
import { afterAll, expect, vi } from 'vitest';
import { differential } from './differential-engine.ts';

vi.mock('../../src/soap/engines.ts', async () => ({ engineFactory: (await import('./differential-engine.ts')).differentialEngineFactory }));

afterAll(() => {
  expect(differential.mismatches, 'the direct and node-soap engines disagreed').toEqual([]);
});
