import type { Logger } from 'pino';
import type { EventBus } from './bus/event-bus.js';
import { type Part, part } from './parts.js';

/**
 * What happened on the bus, as log lines an operator can follow: devices coming and going and
 * refused (debug), device changes (info), store health (warn while failing), booking changes and
 * alerts (debug), stored readings (trace, counts only). Each line names ids, never a payload's
 * text: feedback comments, residents' names and numbers stay out by construction. A level that is
 * off subscribes nothing, so the ingest path pays nothing for trace unless it is asked for.
 */
export function busLog(bus: EventBus, log: Logger): Part {
  let off = () => {};
  return part(
    'bus log',
    () => {
      const on = (level: 'trace' | 'debug' | 'info') => log.isLevelEnabled(level);
      off = bus.onMany({
        ...(on('debug') && {
          'device.connected': (d) => log.debug({ device: d.deviceId, site: d.siteId }, 'device connected'),
          'device.disconnected': (d) =>
            log.debug({ device: d.deviceId, site: d.siteId }, 'device disconnected'),
          'device.refused': (d) =>
            log.debug({ device: d.deviceId, site: d.siteId, code: d.code }, 'device message refused'),
          'appointments.changed': (a) =>
            log.debug(
              { site: a.siteId, dates: a.dates, notice: a.notice?.type, ...bookingRef(a.notice) },
              'appointments changed',
            ),
          'alert.changed': ({ alert }) =>
            log.debug(
              { alert: alert.id, rule: alert.ruleId, site: alert.siteId, state: alert.state },
              'alert',
            ),
        }),
        ...(on('info') && {
          'device.changed': ({ change, device }) => log.info({ device: device.id, change }, 'device changed'),
        }),
        ...(on('trace') && {
          'readings.stored': ({ readings }) => log.trace({ readings: readings.length }, 'readings stored'),
        }),
        'store.health': (s) =>
          s.telemetryStore === 'ok'
            ? log.info({ store: s.telemetryStore }, 'telemetry store healthy')
            : log.warn({ store: s.telemetryStore, since: s.since, detail: s.message }, 'telemetry store'),
      });
    },
    () => off(),
  );
}

function bookingRef(notice: { bookingId?: number; sessionId?: number } | undefined) {
  if (!notice) return {};
  return notice.bookingId === undefined ? { session: notice.sessionId } : { booking: notice.bookingId };
}
