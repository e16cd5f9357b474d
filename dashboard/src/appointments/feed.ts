import { io, type Socket } from 'socket.io-client';
import { getCurrentScope, onScopeDispose, ref, shallowRef } from 'vue';
import type { AppointmentsDay, ClientToServerEvents, ServerToClientEvents } from '../../../contract/index.js';

/**
 * Live `appointments` messages for one site (counts only). The panel refetches its booking list
 * when one arrives, and after a reconnect, when it may have missed some. Its own socket.io
 * connection keeps the panel self-contained; it logs in with the same session cookie and is closed
 * with the component.
 */
export function useAppointmentsFeed(siteId: () => string, onChange: (day: AppointmentsDay | null) => void) {
  const day = shallowRef<AppointmentsDay | null>(null);
  const connected = ref(false);
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io({ withCredentials: true });
  let seenConnect = false;

  socket.on('connect', () => {
    connected.value = true;
    // A reconnect may have missed messages: the caller reloads.
    if (seenConnect) onChange(null);
    seenConnect = true;
  });
  socket.on('disconnect', () => {
    connected.value = false;
  });
  socket.on('appointments', (d) => {
    if (d.siteId !== siteId()) return;
    day.value = d;
    onChange(d);
  });

  const stop = () => {
    socket.removeAllListeners();
    socket.disconnect();
  };
  if (getCurrentScope()) onScopeDispose(stop);
  return { day, connected, stop };
}
