import { logger } from '../../src/observability/logger';
import { DEFAULT_RECOVERY_BOUND_MS, Health, recoveryBoundFromEnv } from '../../src/engine/health';
import { UserError } from '../../src/errors';

const log = logger.child({});
log.level = 'silent';

describe('engine health', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('is not ready while a problem is open, and gives up once after the bound', () => {
    const giveUp = jest.fn();
    const h = new Health({ boundMs: 5_000, log, giveUp });
    const crash = new Error('This server does not host this topic-partition');
    h.down('consumer', crash);
    h.down('consumer', crash); // kafkajs crashes again while restarting: same problem, same deadline
    expect(h.ok).toBe(false);
    jest.advanceTimersByTime(4_999);
    expect(giveUp).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(giveUp).toHaveBeenCalledTimes(1);
    expect(giveUp).toHaveBeenCalledWith('consumer', crash);
  });

  it('is ready again when the problem clears in time, and does not give up', () => {
    const giveUp = jest.fn();
    const h = new Health({ boundMs: 5_000, log, giveUp });
    h.down('consumer', new Error('crash'));
    jest.advanceTimersByTime(3_000);
    h.up('consumer');
    expect(h.ok).toBe(true);
    jest.advanceTimersByTime(10_000);
    expect(giveUp).not.toHaveBeenCalled();
  });

  it('forgets fenced producers of partitions this member no longer owns', () => {
    const h = new Health({ boundMs: 5_000, log, giveUp: jest.fn() });
    h.down('producer raw[0]', new Error('fenced'));
    h.down('producer raw[1]', new Error('fenced'));
    h.upWhere('producer ', (p) => p === 'producer raw[1]');
    expect(h.problems).toEqual(['producer raw[1]']);
    h.close();
  });

  it('reads TRACKLANE_CONSUMER_RESTART_TIMEOUT', () => {
    expect(recoveryBoundFromEnv({})).toBe(DEFAULT_RECOVERY_BOUND_MS);
    expect(recoveryBoundFromEnv({ TRACKLANE_CONSUMER_RESTART_TIMEOUT: '5s' })).toBe(5_000);
    expect(recoveryBoundFromEnv({ TRACKLANE_CONSUMER_RESTART_TIMEOUT: '90' })).toBe(90_000);
    expect(recoveryBoundFromEnv({ TRACKLANE_CONSUMER_RESTART_TIMEOUT: '1500ms' })).toBe(1_500);
    expect(recoveryBoundFromEnv({ TRACKLANE_CONSUMER_RESTART_TIMEOUT: '2m' })).toBe(120_000);
    expect(() => recoveryBoundFromEnv({ TRACKLANE_CONSUMER_RESTART_TIMEOUT: 'soon' })).toThrow(UserError);
  });
});
