import { z } from 'zod';

/**
 * Device kinds and what each one measures. A reading's `values` object is checked against the
 * kind's schema, so a metric a kind does not have is refused rather than stored under a typo.
 * Ranges are physical limits of the huts' hardware: a value outside them is a broken sensor.
 */
const onOff = z.boolean().describe('equipment switched on');
const powerW = z.number().min(0).max(5000).describe('electrical power draw, W');

export const deviceKinds = {
  occupancy_counter: {
    label: { zh: '人数计数器', en: 'Occupancy counter' },
    values: z.strictObject({
      occupancy: z.number().int().min(0).max(500).describe('people inside the hut now'),
    }),
    events: ['fault', 'fault_cleared', 'reboot'],
  },
  door_sensor: {
    label: { zh: '门磁', en: 'Door sensor' },
    values: z.strictObject({ open: z.boolean().describe('door is open') }),
    events: ['door_opened', 'door_closed', 'fault', 'fault_cleared', 'reboot'],
  },
  water_dispenser: {
    label: { zh: '饮水机', en: 'Water dispenser' },
    values: z.strictObject({
      on: onOff,
      power_w: powerW.optional(),
      water_level_pct: z.number().min(0).max(100).describe('water left in the tank, %'),
    }),
    events: ['fault', 'fault_cleared', 'refilled', 'reboot', 'cmd_result'],
  },
  microwave: {
    label: { zh: '微波炉', en: 'Microwave' },
    values: z.strictObject({ on: onOff, power_w: powerW }),
    events: ['fault', 'fault_cleared', 'reboot', 'cmd_result'],
  },
  air_conditioner: {
    label: { zh: '空调', en: 'Air conditioner' },
    values: z.strictObject({
      on: onOff,
      power_w: powerW.optional(),
      setpoint_c: z.number().min(16).max(30).describe('target temperature, °C'),
    }),
    events: ['fault', 'fault_cleared', 'reboot', 'cmd_result'],
  },
  lending_cabinet: {
    label: { zh: '雨具借还柜', en: 'Umbrella & raincoat cabinet' },
    values: z.strictObject({
      umbrellas: z.number().int().min(0).max(200).describe('umbrellas available to borrow'),
      raincoats: z.number().int().min(0).max(200).describe('raincoats available to borrow'),
    }),
    events: ['item_borrowed', 'item_returned', 'fault', 'fault_cleared', 'reboot'],
  },
  environment_sensor: {
    label: { zh: '温湿度传感器', en: 'Environment sensor' },
    values: z.strictObject({
      temperature_c: z.number().min(-40).max(70).describe('air temperature, °C'),
      humidity_pct: z.number().min(0).max(100).describe('relative humidity, %'),
    }),
    events: ['fault', 'fault_cleared', 'reboot'],
  },
} as const;

export type DeviceKind = keyof typeof deviceKinds;
export const deviceKind = z.enum(Object.keys(deviceKinds) as [DeviceKind, ...DeviceKind[]]);

/** Every metric name of every kind, for stores and queries that take a metric by name. */
export const metricNames = [
  ...new Set(Object.values(deviceKinds).flatMap((k) => Object.keys(k.values.shape))),
].sort();
export const metricName = z.enum(metricNames as [string, ...string[]]);

export const eventTypes = [
  ...new Set(Object.values(deviceKinds).flatMap((k) => k.events as readonly string[])),
].sort();
export const eventType = z.enum(eventTypes as [string, ...string[]]);
