import type { RuleDefinition } from '../alerts.js';
import { type DeviceKind, deviceKinds } from '../device/kinds.js';

const MIN = 60_000;
const ALL_KINDS = Object.keys(deviceKinds) as DeviceKind[];

/**
 * The rules every hub ships with. Admins and a site's managers override any of them per site or
 * per device (services/alerts/rules.ts); the reasons for each number are in the comments and in
 * the README's alerts section.
 */
export const DEFAULT_RULES: readonly RuleDefinition[] = [
  {
    id: 'device_offline',
    kinds: ALL_KINDS,
    // Devices report every 5 s (the simulator's default) to 60 s; 3 missed reports of the slowest
    // is the usual "missed heartbeats" margin (Home Assistant's availability works the same way).
    // A Last Will followed by a reconnect within a minute (Wi-Fi roaming, a router reboot) raises
    // nothing, and the device must be back a minute before the alert clears: no flapping.
    body: {
      type: 'offline',
      enabled: true,
      severity: 'warning',
      muteWhenClosed: false,
      intervalMs: MIN,
      missedIntervals: 3,
      forMs: MIN,
      clearForMs: MIN,
    },
  },
  {
    id: 'site_dark',
    kinds: ALL_KINDS,
    // Every device of a hut down at once is its link or power, not N device faults: one critical
    // alert, shorter wait than a single device so it is raised first and the device alerts fold
    // under it.
    body: {
      type: 'site_dark',
      enabled: true,
      severity: 'critical',
      muteWhenClosed: false,
      forMs: 45_000,
      clearForMs: MIN,
    },
  },
  {
    id: 'water_low',
    kinds: ['water_dispenser'],
    // 15 % is the level the live status already flagged (about one refill's lead time at a busy
    // hut); clearing at 25 % means a refill clears it and sloshing readings around 15 % do not.
    // Nobody refills at night: recorded, sent when the hut opens.
    body: {
      type: 'threshold',
      enabled: true,
      severity: 'warning',
      muteWhenClosed: true,
      metric: 'water_level_pct',
      op: 'below',
      raise: 15,
      clear: 25,
      forMs: 2 * MIN,
      clearForMs: MIN,
      when: 'always',
    },
  },
  {
    id: 'temperature_freezing',
    kinds: ['environment_sensor'],
    // Below 0 °C the water dispenser's pipes freeze and a resting rider is at risk: critical.
    body: {
      type: 'threshold',
      enabled: true,
      severity: 'critical',
      muteWhenClosed: false,
      metric: 'temperature_c',
      op: 'below',
      raise: 0,
      clear: 2,
      forMs: 5 * MIN,
      clearForMs: 5 * MIN,
      when: 'always',
    },
  },
  {
    id: 'temperature_low',
    kinds: ['environment_sensor'],
    // GB/T 18883-2022 asks 16–24 °C indoors in the heating season; a hut whose door opens all day
    // gets 10 °C as its floor, with 2 °C of hysteresis against the door's draughts.
    body: {
      type: 'threshold',
      enabled: true,
      severity: 'warning',
      muteWhenClosed: true,
      metric: 'temperature_c',
      op: 'below',
      raise: 10,
      clear: 12,
      forMs: 10 * MIN,
      clearForMs: 5 * MIN,
      when: 'always',
    },
  },
  {
    id: 'temperature_high',
    kinds: ['environment_sensor'],
    // 35 °C is where the China Meteorological Administration's high-temperature warnings begin;
    // clearing at 32 °C keeps an afternoon hovering around 35 from flapping.
    body: {
      type: 'threshold',
      enabled: true,
      severity: 'warning',
      muteWhenClosed: true,
      metric: 'temperature_c',
      op: 'above',
      raise: 35,
      clear: 32,
      forMs: 10 * MIN,
      clearForMs: 5 * MIN,
      when: 'always',
    },
  },
  {
    id: 'humidity_high',
    kinds: ['environment_sensor'],
    // Above 85 % for half an hour, walls and the microwave condense and mould starts (info only).
    body: {
      type: 'threshold',
      enabled: true,
      severity: 'info',
      muteWhenClosed: true,
      metric: 'humidity_pct',
      op: 'above',
      raise: 85,
      clear: 80,
      forMs: 30 * MIN,
      clearForMs: 10 * MIN,
      when: 'always',
    },
  },
  {
    id: 'humidity_low',
    kinds: ['environment_sensor'],
    // Below 20 % (northern winters with heating) dry air is uncomfortable; info only.
    body: {
      type: 'threshold',
      enabled: true,
      severity: 'info',
      muteWhenClosed: true,
      metric: 'humidity_pct',
      op: 'below',
      raise: 20,
      clear: 25,
      forMs: 30 * MIN,
      clearForMs: 10 * MIN,
      when: 'always',
    },
  },
  {
    id: 'over_seats',
    kinds: ['occupancy_counter'],
    // More people inside than seats for 5 minutes (not a group walking through): someone should
    // open the second hut or direct people on. Clears once a seat is free for 2 minutes.
    body: {
      type: 'over_seats',
      enabled: true,
      severity: 'warning',
      muteWhenClosed: false,
      margin: 0,
      clearBelow: 1,
      forMs: 5 * MIN,
      clearForMs: 2 * MIN,
    },
  },
  {
    id: 'umbrellas_empty',
    kinds: ['lending_cabinet'],
    // No umbrella left for 10 minutes (one returned in the meantime resets it); clear at 2, so
    // one umbrella going in and out does not flap. Refilled by day: muted at night.
    body: {
      type: 'threshold',
      enabled: true,
      severity: 'info',
      muteWhenClosed: true,
      metric: 'umbrellas',
      op: 'below',
      raise: 1,
      clear: 2,
      forMs: 10 * MIN,
      clearForMs: MIN,
      when: 'always',
    },
  },
  {
    id: 'raincoats_empty',
    kinds: ['lending_cabinet'],
    body: {
      type: 'threshold',
      enabled: true,
      severity: 'info',
      muteWhenClosed: true,
      metric: 'raincoats',
      op: 'below',
      raise: 1,
      clear: 2,
      forMs: 10 * MIN,
      clearForMs: MIN,
      when: 'always',
    },
  },
  {
    id: 'ac_on_closed',
    kinds: ['air_conditioner'],
    // The air conditioner left running 15 minutes after closing time wastes a night of power.
    body: {
      type: 'threshold',
      enabled: true,
      severity: 'warning',
      muteWhenClosed: false,
      metric: 'on',
      op: 'above',
      raise: 0.5,
      clear: 0.5,
      forMs: 15 * MIN,
      clearForMs: 0,
      when: 'closed',
    },
  },
  {
    id: 'door_open_long',
    kinds: ['door_sensor'],
    // The live status's old 15 minutes: in winter an open door empties the hut's heat.
    body: {
      type: 'threshold',
      enabled: true,
      severity: 'warning',
      muteWhenClosed: false,
      metric: 'open',
      op: 'above',
      raise: 0.5,
      clear: 0.5,
      forMs: 15 * MIN,
      clearForMs: 0,
      when: 'open',
    },
  },
  {
    id: 'door_after_hours',
    kinds: ['door_sensor'],
    // Opened while closed: a break-in, or staff who forgot to lock up. Two minutes lets the last
    // volunteer leave after closing time without an alert.
    body: {
      type: 'threshold',
      enabled: true,
      severity: 'critical',
      muteWhenClosed: false,
      metric: 'open',
      op: 'above',
      raise: 0.5,
      clear: 0.5,
      forMs: 2 * MIN,
      clearForMs: 0,
      when: 'closed',
    },
  },
  {
    id: 'device_fault',
    kinds: ALL_KINDS,
    // The device said so itself: raise at once, clear on its fault_cleared.
    body: { type: 'fault', enabled: true, severity: 'warning', muteWhenClosed: false, clearForMs: 0 },
  },
  {
    id: 'refused_messages',
    kinds: ALL_KINDS,
    // A device whose payloads are refused 30 times in 5 minutes runs broken firmware; a single bad
    // message (a glitch) is counted but raises nothing. Clears after 10 quiet minutes.
    body: {
      type: 'refused_rate',
      enabled: true,
      severity: 'warning',
      muteWhenClosed: false,
      codes: [
        'TOPIC_NOT_ALLOWED',
        'SUBSCRIBE_NOT_ALLOWED',
        'PACKET_TOO_LARGE',
        'PAYLOAD_TOO_LARGE',
        'PAYLOAD_NOT_JSON',
        'PAYLOAD_INVALID',
        'RATE_LIMITED',
      ],
      count: 30,
      windowMs: 5 * MIN,
      clearForMs: 10 * MIN,
    },
  },
  {
    id: 'auth_failures',
    kinds: ALL_KINDS,
    // Five failed logins in 5 minutes: a wrong secret after a rotation, or someone guessing.
    body: {
      type: 'refused_rate',
      enabled: true,
      severity: 'warning',
      muteWhenClosed: false,
      codes: ['AUTH_FAILED'],
      count: 5,
      windowMs: 5 * MIN,
      clearForMs: 15 * MIN,
    },
  },
];

export const DEFAULT_RULES_BY_ID: ReadonlyMap<string, RuleDefinition> = new Map(
  DEFAULT_RULES.map((r) => [r.id, r]),
);
