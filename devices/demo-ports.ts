import net from 'node:net';

/**
 * `npm run demo` should start even when another hub or broker holds the usual ports: it probes
 * each one and asks for a free port (0) instead of failing, then says which ports moved.
 */

export async function portOr0(preferred: number, host: string): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(0));
    probe.listen(preferred, host, () => probe.close(() => resolve(preferred)));
  });
}

export interface PortChoice {
  name: string;
  wanted: number;
  got: number;
}

/** One line naming only the ports that moved, e.g. "Port 1883 (MQTT) was busy, so 40123 was picked." */
export function movedPortsNote(choices: readonly PortChoice[]): string {
  const moved = choices.filter((c) => c.got !== c.wanted);
  if (moved.length === 0) return '';
  const list = (xs: string[]) => (xs.length > 1 ? `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}` : xs[0]!);
  const wanted = list(moved.map((c) => `${c.wanted} (${c.name})`));
  const got = list(moved.map((c) => String(c.got)));
  return moved.length > 1
    ? `Ports ${wanted} were busy, so ${got} were picked.`
    : `Port ${wanted} was busy, so ${got} was picked.`;
}
