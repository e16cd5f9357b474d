import type { AppointmentsDay } from '../../contract/index.js';
import type { EventBus } from '../bus/event-bus.js';
import type { AppointmentSummaries } from './summary.js';

/**
 * Puts a site's appointment day (counts only, no personal data) on the bus for the live socket
 * when its bookings change. Changes are coalesced per site for `delayMs`, so a burst of bookings at one
 * hut becomes one message; only today's changes are sent, as the dashboards show today.
 */
export class AppointmentsLive {
  private unsubscribe: (() => void) | undefined;
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly summaries: AppointmentSummaries,
    private readonly bus: EventBus,
    private readonly onError: (err: unknown) => void,
    private readonly delayMs = 100,
  ) {}

  start(): void {
    this.unsubscribe = this.bus.on('appointments.changed', ({ siteId, dates }) =>
      this.changed(siteId, dates),
    );
  }

  private changed(siteId: string, dates: string[]): void {
    if (!this.unsubscribe || !dates.includes(this.summaries.today())) return;
    this.pending.add(siteId);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flush().catch(this.onError);
    }, this.delayMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
    await this.flushing;
  }

  private async flush(): Promise<void> {
    const sites = [...this.pending];
    this.pending.clear();
    const date = this.summaries.today();
    const days = new Map((await this.summaries.days(sites, date)).map((d) => [d.siteId, d]));
    for (const siteId of sites) {
      const day = days.get(siteId) ?? { siteId, date, sessions: [], totals: emptyTotals() };
      if (this.unsubscribe) this.bus.emit('live.appointments', day);
    }
  }
}

function emptyTotals(): AppointmentsDay['totals'] {
  return { sessions: 0, capacity: 0, booked: 0, checkedIn: 0, noShow: 0, cancelled: 0 };
}
