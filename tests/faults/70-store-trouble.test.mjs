// The bridge's SQLite store on a tiny filesystem that gets into trouble: a 4 MiB tmpfs mounted
// in a mount namespace of its own (unshare -m, held by a placeholder process), the bridge run
// inside it (nsenter -m) with its store there. Disk full: the test fills the filesystem from
// outside (through nsenter) until ENOSPC, publishes events for the durable channels, and sees
// /healthz go 503 with the store failing, the log say so and /metrics count it; once the filler
// is gone /healthz is 200 again and every event of the outage reaches the Web Push,
// UnifiedPush and SET receivers. Read-only: Linux refuses to remount a filesystem read-only
// while a process holds files on it open for writing (EBUSY), as the bridge holds its SQLite
// database, WAL and shared memory; so the bridge is SIGKILLed, the filesystem remounted
// read-only, events published, and a bridge started on it exits with the reason; remounted
// read-write, the next start delivers every one of those events. Needs root
// (CAP_SYS_ADMIN) for unshare and mount; skipped with the reason otherwise.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, publisher, request, shutdown } from '../integration/lib/bridge.mjs';
import { run } from '../integration/lib/proc.mjs';
import { createWorld } from '../integration/lib/world.mjs';
import { DURABLE, QUEUE_CONF, channelConfig, durableReceivers, table, tally, tenants } from './lib/durable.mjs';
import { until } from './lib/measure.mjs';

const SIZE = '4m';
const OUTAGE_EVENTS = 20;
const OUTAGE_MS = 6000; // the disk stays full this long after the events

let w;
let holder; // the process whose mount namespace has the tmpfs
let storeDir;
let bridge;
let recv;
let pub;
let seq = 0;
let skipReason = null;

/** Start `sleep` in a new mount namespace with a tmpfs on dir; resolves the process, or a reason. */
async function mountNamespace(dir) {
    const script = `mount -t tmpfs -o size=${SIZE},mode=0700 mqp-store "${dir}" && echo mounted && exec sleep 100000`;
    const p = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const exited = new Promise((resolve) => p.on('exit', resolve));
    p.on('error', (e) => (out += e.message));
    const ok = await Promise.race([
        until(() => out.includes('mounted'), 'the tmpfs', 10000).then(() => true),
        exited.then(() => false),
    ]).catch(() => false);
    if (!ok) {
        p.kill('SIGKILL');
        return { reason: `cannot mount a tmpfs in a mount namespace of its own (needs root with CAP_SYS_ADMIN): ${out.trim()}` };
    }
    return { proc: p, exited };
}

/** A shell command inside the holder's mount namespace; resolves {code, stdout, stderr}. */
const inside = (cmd) => run('nsenter', ['-t', String(holder.proc.pid), '-m', '--', 'sh', '-c', cmd], { timeoutMs: 30000 });

async function insideOk(cmd) {
    const r = await inside(cmd);
    if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
}

const healthz = async () => {
    const r = await request(bridge.port, '/healthz').catch((e) => ({ status: e.message, body: '' }));
    let body = null;
    try {
        body = JSON.parse(r.body);
    } catch {}
    return { status: r.status, body };
};

const metric = async (name) => (await bridge.metrics())[name];

async function publishN(n) {
    const seqs = [];
    for (let i = 0; i < n; i++) {
        seqs.push(++seq);
        await pub.publish('app', 'tick', { payload: { seq } });
    }
    return seqs;
}

async function allDelivered(seqs, what, timeoutMs = 30000) {
    await until(
        () => DURABLE.every((c) => seqs.every((s) => recv.received(c).some((g) => g.seq === s))),
        what,
        timeoutMs,
    );
    const rows = DURABLE.map((c) => tally(c, seqs, recv.received(c)));
    for (const r of rows) assert.deepEqual(r.idConflicts, [], `${r.channel}: an event under two ids`);
    return rows;
}

async function startBridge() {
    bridge ??= new Bridge(w, {
        store: `sqlite://${storeDir}/mqpush.db`,
        sse: { replay_max_events: 100 },
        extra: channelConfig(),
        // exec'd by nsenter (no fork without a PID namespace): the pid is the bridge's
        wrap: (argv) => ['nsenter', '-t', String(holder.proc.pid), '-m', '--', ...argv],
    });
    return bridge.start({ samePort: true, waitHealthy: false });
}

before(async () => {
    w = await createWorld({ label: 'f-store', tenants: tenants(), brokerConf: QUEUE_CONF });
    storeDir = path.join(w.dir, 'store');
    fs.mkdirSync(storeDir);
    holder = await mountNamespace(storeDir);
    if (holder.reason) {
        skipReason = holder.reason;
        return;
    }
    await startBridge();
    await bridge.waitHealthy();
    recv = await durableReceivers(w, bridge);
    pub = await publisher(w, 't');
    assert.match(await insideOk(`df -k "${storeDir}" | tail -1`), /mqp-store/, 'the store is on the tmpfs');
    const first = await publishN(3);
    await allDelivered(first, 'the first events');
});

after(async () => {
    // Whatever happened: the filesystem writable and empty of the filler again, then the bridge
    // and the namespace's holder gone (the tmpfs with them).
    if (holder?.proc) {
        await inside(`mount -o remount,rw "${storeDir}"; rm -f "${storeDir}/filler"`).catch(() => {});
    }
    await pub?.end().catch(() => {});
    await recv?.close();
    try {
        await shutdown({ bridge, world: null });
    } finally {
        bridge?.kill();
        if (holder?.proc) {
            holder.proc.kill('SIGKILL');
            await holder.exited;
        }
        await w?.dispose();
    }
});

describe('the store on a tiny filesystem', () => {
    test('disk full: /healthz 503 and the store failing, no event lost, back once there is room', async (t) => {
        if (skipReason) return t.skip(skipReason);
        const failuresBefore = await metric('mqpush_bridge_store_failures_total');
        const from = bridge.mark();
        // dd stops at ENOSPC
        const fill = await inside(`dd if=/dev/zero of="${storeDir}/filler" bs=16k 2>&1; df -k "${storeDir}" | tail -1`);
        assert.match(fill.stdout, /No space left on device/, fill.stdout);
        const t0 = Date.now();
        const outage = await publishN(OUTAGE_EVENTS);
        const h = await until(
            async () => {
                const r = await healthz();
                return r.status === 503 && r.body?.store === 'failing' ? r : null;
            },
            '/healthz 503 with the store failing',
            10000,
        );
        const after503 = Date.now() - t0;
        assert.equal(h.body.status, 'unavailable');
        assert.equal(typeof h.body.store_error, 'string');
        assert.ok(h.body.store_error.length > 0);
        await bridge.waitForOutput(/store: failing/, { from });
        assert.equal(await metric('mqpush_bridge_store_up'), 0);
        assert.ok((await metric('mqpush_bridge_store_failures_total')) > failuresBefore);
        // more while it is failing: they wait at the broker too
        outage.push(...(await publishN(5)));
        await sleep(OUTAGE_MS);
        const heldBack = DURABLE.map((c) => tally(c, outage, recv.received(c)));
        // Each reconnect has the unkept event redelivered and refused again: the backoff grows
        // over them (at a fixed 250 ms there would be some 24 in 6 s).
        const delays = [...bridge.output.slice(from).matchAll(/could not be kept; .*next attempt in (\d+) ms/g)].map((m) => Number(m[1]));
        assert.ok(delays.length >= 2 && delays.length <= 12, `reconnects during the outage: ${delays.join(' ')}`);

        await insideOk(`rm -f "${storeDir}/filler"`);
        const t1 = Date.now();
        await until(async () => (await healthz()).status === 200, '/healthz 200 again', 20000);
        const back = Date.now() - t1;
        assert.equal((await healthz()).body.store, 'ok');
        assert.equal(await metric('mqpush_bridge_store_up'), 1);
        await bridge.waitForOutput(/store: writable again/, { from });
        const rows = await allDelivered(outage, 'every event of the outage', 30000);
        console.log(
            `\ndisk full: 503 ${after503} ms after the first event, 200 again ${back} ms after the filler went; ` +
                `delivered during the outage: ${heldBack.map((r) => `${r.channel} ${r.unique}`).join(', ')}; ` +
                `store_error: ${h.body.store_error}; reconnects meanwhile, next attempt in: ${delays.join(' ')} ms\n${table(rows)}\n`,
        );
        for (const r of rows) assert.equal(r.lost, 0, `${r.channel}: lost ${r.missing.join(' ')}`);
    });

    test('read-only: refused under the running bridge; a bridge started on it exits clearly; nothing lost', async (t) => {
        if (skipReason) return t.skip(skipReason);
        // The kernel's rule (sb_prepare_remount_readonly): no remount read-only under writers.
        const busy = await inside(`mount -o remount,ro "${storeDir}"`);
        assert.notEqual(busy.code, 0, 'a remount read-only under the running bridge was refused');
        assert.match(busy.stderr, /busy/i);

        bridge.kill();
        await bridge.exitPromise;
        await insideOk(`mount -o remount,ro "${storeDir}"`);
        assert.match(await insideOk(`grep " ${storeDir} " /proc/self/mounts`), /\bro\b/);
        const outage = await publishN(OUTAGE_EVENTS);
        const from = bridge.mark();
        await startBridge().catch(() => {});
        // SQLite would open it for reading only, for good: the bridge refuses to run on it
        await until(() => !bridge.running, 'the bridge to refuse the read-only store', 20000);
        const log = bridge.output.slice(from).trim();
        assert.notEqual(bridge.exited.code, 0, log);
        assert.match(log, /store: .*mqpush\.db is read-only/);
        const seen = `exited ${JSON.stringify(bridge.exited)}`;

        await insideOk(`mount -o remount,rw "${storeDir}"`);
        const t1 = Date.now();
        await startBridge();
        await until(async () => (await healthz()).status === 200, '/healthz 200 again', 30000);
        const back = Date.now() - t1;
        const rows = await allDelivered(outage, 'every event published while the store was read-only', 30000);
        console.log(
            `\nread-only: a remount under the running bridge: "${busy.stderr.trim().split('\n')[0]}"; ` +
                `the bridge started on the read-only store: ${seen}; 200 again ${back} ms after the remount ` +
                `read-write\nits log:\n${log}\n${table(rows)}\n`,
        );
        for (const r of rows) assert.equal(r.lost, 0, `${r.channel}: lost ${r.missing.join(' ')}`);
    });
});
