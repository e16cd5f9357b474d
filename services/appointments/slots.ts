export interface Slot {
  index: number;
  startAt: number;
  endAt: number;
}

interface SlotSource {
  start_at: number;
  end_at: number;
  slot_minutes: number;
}

/** Slots are implied by the session: back to back from its start, each `slot_minutes` long. */
export function slotsOf(s: SlotSource): Slot[] {
  const len = s.slot_minutes * 60_000;
  const n = Math.floor((Number(s.end_at) - Number(s.start_at)) / len);
  return Array.from({ length: n }, (_, index) => ({
    index,
    startAt: Number(s.start_at) + index * len,
    endAt: Number(s.start_at) + (index + 1) * len,
  }));
}

export function slotAt(s: SlotSource, startAt: number): Slot | undefined {
  const len = s.slot_minutes * 60_000;
  const offset = startAt - Number(s.start_at);
  if (offset < 0 || offset % len !== 0) return undefined;
  return slotsOf(s)[offset / len];
}

/** Booking closes `cutoffMs` before a slot starts; a slot in the past is closed too. */
export function slotOpen(slot: Pick<Slot, 'startAt'>, now: number, cutoffMs: number): boolean {
  return now < slot.startAt - cutoffMs;
}
