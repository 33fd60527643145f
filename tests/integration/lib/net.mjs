// Loopback ports: every broker gets its own, found by binding port 0.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A port the kernel just handed out on 127.0.0.1 and that is free again now. */
export function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

function tryConnect(port) {
    return new Promise((resolve) => {
        const sock = net.connect({ host: '127.0.0.1', port });
        sock.once('connect', () => {
            sock.destroy();
            resolve(true);
        });
        sock.once('error', () => resolve(false));
    });
}

/**
 * Resolve once 127.0.0.1:port accepts connections. stillAlive() is polled too so that a broker
 * that exits during start-up fails fast instead of after the timeout.
 */
export async function waitForPort(port, { timeoutMs = 20000, stillAlive = () => true } = {}) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (!stillAlive()) return false;
        if (await tryConnect(port)) return true;
        await sleep(25);
    }
    throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}
