// Measures in CPU time and in counts instead of elapsed time (issue 32). A machine busy with
// other work delays this process without making it do more: bounds on elapsed time failed there
// (CI runs on a developer's machine, often busy), while the CPU time a piece of work costs, how
// long it holds the event loop in CPU terms and how often the loop turns stay what the code
// makes them.
import v8 from 'node:v8';
import vm from 'node:vm';

/** The calling thread's own CPU time: Node 22 and 24 have it, Node 20 does not. */
const threadCpuUsage = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage?.bind(process);

/**
 * CPU time used so far, in ms: this thread's where Node can tell it, else the whole process's
 * (a vitest fork runs one test file at a time; its other threads are GC's, the compiler's and
 * zlib's, whose work the code under test causes too).
 */
export function cpuMs(): number {
  const u = threadCpuUsage ? threadCpuUsage() : process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Starts watching how long the event loop is held, in CPU time; the function returned stops
 * watching and returns the longest hold (ms). A timer re-armed every millisecond runs at most
 * once per turn of the loop, so the CPU time spent between two of its runs is what a turn
 * (callbacks, GC) cost. Being descheduled costs no CPU time: unlike the loop's delay, this does
 * not grow on a busy machine.
 */
export function watchLoopHold(): () => number {
  let last = cpuMs();
  let longest = 0;
  const tick = (): void => {
    const now = cpuMs();
    longest = Math.max(longest, now - last);
    last = now;
    timer = setTimeout(tick, 1);
  };
  let timer = setTimeout(tick, 1);
  return () => {
    clearTimeout(timer);
    return Math.max(longest, cpuMs() - last);
  };
}

/**
 * Starts counting the turns of the event loop (its check phases, through a setImmediate that
 * re-arms itself); the function returned stops and returns the count. It keeps the loop from
 * sleeping while it runs: for work that keeps the CPU busy anyway, not for waits.
 */
export function countLoopTurns(): () => number {
  let turns = 0;
  let counting = true;
  const turn = (): void => {
    turns++;
    if (counting) setImmediate(turn);
  };
  setImmediate(turn);
  return () => {
    counting = false;
    return turns;
  };
}

let gc: (() => void) | undefined;

/**
 * Collects garbage now, so that a measurement does not pay for what earlier work left behind
 * (without it, a 1 MB read that costs 5-15 ms of CPU now and then cost 36-88 ms).
 */
export function collectGarbage(): void {
  if (!gc) {
    // Exposed to contexts made from now on; vitest starts Node without --expose-gc.
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
}
