// V8's sampling profiler in this process (node:inspector), the same sampler `node --cpu-prof`
// starts, but switched on only around the engine run: the pre-produce and the bench's set-up
// stay out of the profile, and no separate process or flag is needed.
import { Session } from 'node:inspector/promises';
import type { Profile } from './profile-top';

/** --cpu-prof's default interval. */
const SAMPLING_INTERVAL_US = 1000;

export class CpuProfiler {
  private session?: Session;
  /** What the last stop() collected. */
  profile?: Profile;

  async start(): Promise<void> {
    const s = new Session();
    s.connect();
    await s.post('Profiler.enable');
    await s.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
    await s.post('Profiler.start');
    this.session = s;
  }

  /** The profile since start(); its times are monotonic-clock µs like process.hrtime. */
  async stop(): Promise<Profile> {
    const s = this.session;
    if (!s) throw new Error('CpuProfiler.stop() without start()');
    this.session = undefined;
    try {
      const { profile } = await s.post('Profiler.stop');
      this.profile = profile as unknown as Profile;
      return this.profile;
    } finally {
      s.disconnect();
    }
  }
}
