// The keepalive's cadence on a fake clock.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../src/logger.ts';
import { KeepAlive } from '../../../src/session/keepalive.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('KeepAlive', () => {
  it('ticks once per interval while started, not before, not after stop', async () => {
    let ticks = 0;
    const k = new KeepAlive(1000, async () => ticks++, silentLogger);
    await vi.advanceTimersByTimeAsync(5000);
    expect(ticks).toBe(0);
    k.start();
    k.start(); // starting twice keeps one timer
    await vi.advanceTimersByTimeAsync(3500);
    expect(ticks).toBe(3);
    k.stop();
    expect(k.active).toBe(false);
    await vi.advanceTimersByTimeAsync(5000);
    expect(ticks).toBe(3);
  });

  it('never runs two ticks at once, and goes on after a failed one', async () => {
    let running = 0;
    let most = 0;
    let calls = 0;
    const k = new KeepAlive(100, async () => {
      calls++;
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 250));
      running--;
      if (calls === 1) throw new Error('server unreachable');
    }, silentLogger);
    k.start();
    await vi.advanceTimersByTimeAsync(1000);
    k.stop();
    expect(most).toBe(1);
    expect(calls).toBeGreaterThanOrEqual(3);
  });

  it('does not keep the process alive', () => {
    const k = new KeepAlive(1000, async () => undefined, silentLogger);
    k.start();
    expect(vi.getTimerCount()).toBe(1);
    k.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
