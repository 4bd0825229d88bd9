import { describe, expect, it } from 'vitest';
import * as undici from 'undici';
import { Agent, Client } from '../../../src/transport/undici.ts';

describe('undici, loaded file by file', () => {
  it('gives the same classes as the package', () => {
    expect(Agent).toBe(undici.Agent);
    expect(Client).toBe(undici.Client);
  });
});
