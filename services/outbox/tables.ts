/** Row shapes of the outbox and hub_meta tables (migration '007-operations'), as stored. */
export interface OutboxTables {
  outbox: {
    /** The delivery id: the same on every attempt (receivers dedupe by it); a second insert is a no-op. */
    id: string;
    /** Who sends it: 'booking-webhook'. Alert messages keep their own table (alert_outbox). */
    channel: string;
    event: string;
    /** The JSON body; erased (null) once delivered or given up, since it may hold a name and number. */
    body: string | null;
    state: string;
    attempts: number;
    /** Due at; while one hub sends it, pushed ahead by a lease so that no other hub takes it too. */
    next_at: number;
    last_error: string | null;
    created_at: number;
    sent_at: number | null;
  };
  hub_meta: { key: string; value: string };
}
