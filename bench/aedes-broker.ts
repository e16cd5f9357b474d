import net from 'node:net';
import { Aedes } from 'aedes';

/**
 * The bare-aedes reference: aedes v1 with its default in-memory persistence, no authentication and
 * no hooks, on a free port. Prints `listening <port>`; stops on SIGTERM or when the bench goes away.
 */
const aedes = await Aedes.createBroker();
const server = net.createServer((socket) => aedes.handle(socket));
server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${(server.address() as net.AddressInfo).port}`);
});

const stop = () => {
  server.close();
  aedes.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
