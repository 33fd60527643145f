// What the fault tests measure about the bridge while something hostile happens: request
// latency on fresh connections, how long an event takes to reach a reader, the bridge's open
// file descriptors, and percentiles.
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpReq } from '../../integration/lib/sio.mjs';

/** The q-quantile (0..1) of numbers, nearest rank; NaN for none. */
export function quantile(values, q) {
    if (values.length === 0) return NaN;
    const s = [...values].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export const summary = (values) =>
    `n=${values.length} p50=${quantile(values, 0.5)} p99=${quantile(values, 0.99)} max=${quantile(values, 1)} ms`;

/** GET /healthz on a new connection (no keep-alive): resolves {status, ms}. */
export async function healthz(port, timeoutMs = 20000) {
    const t0 = Date.now();
    const r = await httpReq(port, '/healthz', { timeoutMs }).catch((e) => ({ status: e.message }));
    return { status: r.status, ms: Date.now() - t0 };
}

/**
 * Probe /healthz every intervalMs on fresh connections until stop() is called; stop() resolves
 * the results ({status, ms}). A probe still running when stop() is called is waited for.
 */
export function prober(port, intervalMs = 250) {
    const results = [];
    const running = new Set();
    let stopped = false;
    const loop = (async () => {
        while (!stopped) {
            const p = healthz(port).then((r) => results.push(r));
            running.add(p);
            p.finally(() => running.delete(p));
            await sleep(intervalMs);
        }
    })();
    return {
        results,
        async stop() {
            stopped = true;
            await loop;
            await Promise.all(running);
            return results;
        },
    };
}

/** Open file descriptors of a process (sockets, files, the loop's own). */
export function fdCount(pid) {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Wait until pred() holds (polled every 50 ms), or fail naming what. */
export async function until(pred, what, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const v = await pred();
        if (v) return v;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await sleep(50);
    }
}

/** Wait for the bridge's descriptors to come back to at most base + slack; resolves the count. */
export async function fdsBackTo(bridge, base, { slack = 2, timeoutMs = 15000 } = {}) {
    let n = fdCount(bridge.proc.pid);
    const deadline = Date.now() + timeoutMs;
    while (n > base + slack && Date.now() < deadline) {
        await sleep(100);
        n = fdCount(bridge.proc.pid);
    }
    return n;
}
