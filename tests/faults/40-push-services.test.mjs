// Push services that misbehave (lib/badserver.mjs), for Web Push subscriptions and UnifiedPush
// endpoints of one stream: one never answers, one resets every connection, one answers a byte a
// second, one answers with bytes that are not HTTP, one with a status no RFC defines, one with a
// 201 and a body that never ends. Meanwhile a healthy push service of the same stream gets every
// event within a second; no origin has more than 32 requests in flight (webpush/sender.c
// ORIGIN_INFLIGHT_MAX), a silent one no more than 4 (ORIGIN_INFLIGHT_START), and requests left unanswered time out and go again; once the bad
// services behave again they get every event, none lost.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, publisher, request } from '../integration/lib/bridge.mjs';
import { PushService, userAgent } from '../integration/lib/pushservice.mjs';
import { ev, stream } from '../integration/lib/streams.mjs';
import { createWorld } from '../integration/lib/world.mjs';
import { BadServer } from './lib/badserver.mjs';
import { quantile, summary, until } from './lib/measure.mjs';

const ORIGIN_INFLIGHT_MAX = 32;
// what an origin may have in flight before it has answered anything (webpush/sender.c)
const ORIGIN_INFLIGHT_START = 4;
const RATE = 20; // events a second
const LATENCY_P99_MS = 1000;
const BAD_MODES = ['blackhole', 'reset', 'slow', 'garbage', 'junk', 'flood'];
const RETRY = { retry_min_ms: 200, retry_max_ms: 1000 };

let w;
let pub;
const bridges = [];
const servers = [];

before(async () => {
    w = await createWorld({
        label: 'f-push',
        tenants: { t: { streams: [stream('alerts', { subscriberRoles: ['reader'], events: [ev('app', 'alert')] })] } },
    });
    pub = await publisher(w, 't');
});

after(async () => {
    await pub?.end().catch(() => {});
    for (const s of servers) await s.close().catch(() => {});
    try {
        for (const b of bridges) await b.stop({ timeoutMs: 60000 });
    } finally {
        for (const b of bridges) b.kill();
        await w?.dispose();
    }
});

async function startBridge(name, extra) {
    const b = new Bridge(w, { name, extra: { outbound: { allow: ['127.0.0.0/8'] }, ...extra } });
    bridges.push(b);
    return b.start();
}

async function badServers() {
    const out = {};
    for (const mode of BAD_MODES) {
        out[mode] = await new BadServer('ok').start();
        servers.push(out[mode]);
    }
    return out;
}

function post(b, path, token, body) {
    const text = JSON.stringify(body);
    return request(b.port, path, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
        body: text,
    });
}

const readerToken = (sub) => w.token('t', { sub, sid: `${sub}-s`, roles: ['reader'], ttl: 600 });

/**
 * Publish n events at RATE a second, each {payload: {run, key}}; resolves {keys, sentAt}
 * (sentAt: key -> publish time).
 */
async function publishRun(run, n) {
    const sentAt = new Map();
    for (let i = 0; i < n; i++) {
        const key = `${run}-${i}`;
        sentAt.set(key, Date.now());
        await pub.publish('app', 'alert', { payload: { run, key } });
        await sleep(1000 / RATE);
    }
    return { keys: [...sentAt.keys()], sentAt };
}

/**
 * The common checks: the healthy destination got every key promptly (keysAt(): [{key, at}]);
 * each bad one held at most ORIGIN_INFLIGHT_MAX connections; one that never answers exactly
 * ORIGIN_INFLIGHT_START (it earns no more), one that answers slowly at least that many.
 */
function checkHealthyAndLimits(label, healthyGot, bad, { keys, sentAt }) {
    const got = healthyGot();
    assert.deepEqual(got.map((g) => g.key).sort(), [...keys].sort(), `${label}: the healthy destination got every event once`);
    const lat = got.map((g) => g.at - sentAt.get(g.key));
    const conns = Object.entries(bad).map(([m, s]) => `${m} ${s.maxOpen}/${s.accepted}`);
    console.log(`# ${label}: healthy latency ${summary(lat)}; bad (most open at once/accepted): ${conns.join(', ')}`);
    assert.ok(quantile(lat, 0.99) < LATENCY_P99_MS, `${label}: ${summary(lat)}`);
    for (const [mode, s] of Object.entries(bad)) {
        assert.ok(s.maxOpen <= ORIGIN_INFLIGHT_MAX, `${label} ${mode}: ${s.maxOpen} connections at once`);
        if (mode === 'blackhole')
            assert.equal(s.maxOpen, ORIGIN_INFLIGHT_START, `${label} ${mode}: requests pile up to the starting allowance`);
        if (mode === 'slow') assert.ok(s.maxOpen >= ORIGIN_INFLIGHT_START, `${label} ${mode}: ${s.maxOpen} at once`);
    }
}

describe('Web Push', () => {
    const N = 100;
    let b;
    let ps;
    let bad;
    let healthy;
    const uas = {};

    before(async () => {
        b = await startBridge('webpush', {
            webpush: { subject: 'mailto:ops@mqpush.test', ttl_s: 600, ...RETRY, streams: [{ tenant: 't', stream: 'alerts', default: true }] },
        });
        ps = await new PushService().start();
        servers.push(ps);
        bad = await badServers();
        const vapid = JSON.parse((await request(b.port, '/api/push/vapid')).body).key;
        const subscribe = async (sub, endpoint) => {
            const ua = userAgent();
            const r = await post(b, '/api/push/subscribe', await readerToken(sub), { subscription: { endpoint, keys: ua.keys }, vapid });
            assert.equal(r.status, 201, r.body);
            return ua;
        };
        healthy = await subscribe('healthy', ps.endpoint('healthy'));
        for (const [mode, s] of Object.entries(bad)) {
            uas[mode] = await subscribe(mode, s.url(`/push/${mode}`));
            s.setMode(mode);
        }
    });

    const keyOf = (ua, body) => JSON.parse(ua.decrypt(body).toString('utf8')).payload.key;

    test(`${N} events at ${RATE}/s: the healthy service keeps its pace, at most ${ORIGIN_INFLIGHT_MAX} requests per bad origin; after recovery every event reaches every service`, async () => {
        const run = await publishRun('wp', N);
        await ps.until(() => ps.to('/push/healthy').length >= N, 'every event at the healthy service', 15000);
        // a little longer, for requests to pile up at the services that do not answer
        await sleep(1000);
        checkHealthyAndLimits('Web Push', () => ps.to('/push/healthy').map((r) => ({ key: keyOf(healthy, r.body), at: r.at })), bad, run);
        // a 201 with an endless body is an answer: each event went there once, never again
        assert.equal(bad.flood.byMode.flood, N, 'one request per event to the flooding service');
        const m = await b.metrics();
        console.log(`# pending ${m['mqpush_bridge_push_pending{channel="webpush"}']}, retried ${m['mqpush_bridge_push_total{channel="webpush",result="retried"}']}`);
        assert.ok(m['mqpush_bridge_push_total{channel="webpush",result="retried"}'] > 0, 'the bad answers were retried');
        // requests without an answer end at curl's 15 s timeout and are sent again, still at
        // most ORIGIN_INFLIGHT_MAX at once
        await until(
            () => bad.blackhole.accepted > ORIGIN_INFLIGHT_START && bad.slow.accepted > ORIGIN_INFLIGHT_START,
            'the unanswered requests to time out and be sent again',
            20000,
        );
        for (const mode of ['blackhole', 'slow']) assert.ok(bad[mode].maxOpen <= ORIGIN_INFLIGHT_MAX, `${mode}: ${bad[mode].maxOpen}`);

        const t0 = Date.now();
        for (const mode of BAD_MODES) if (mode !== 'flood') bad[mode].recover();
        for (const mode of BAD_MODES) {
            if (mode === 'flood') continue;
            const s = bad[mode];
            await until(() => s.posts().length >= N, `every event at the ${mode} service once it behaves`, 30000);
            const keys = s.posts().map((r) => keyOf(uas[mode], r.body));
            assert.deepEqual([...keys].sort(), [...run.keys].sort(), `${mode}: every event once, none lost`);
        }
        console.log(`# every event at every recovered service ${Date.now() - t0} ms after recovery`);
        await until(async () => (await b.metrics())['mqpush_bridge_push_pending{channel="webpush"}'] === 0, 'nothing pending');
    });
});

describe('UnifiedPush', () => {
    const N = 60;
    let b;
    let healthy;
    let bad;

    before(async () => {
        b = await startBridge('unifiedpush', {
            webpush: { subject: 'mailto:ops@mqpush.test', streams: [] },
            unifiedpush: { ttl_s: 600, ...RETRY, streams: [{ tenant: 't', stream: 'alerts', default: true }] },
        });
        healthy = await new BadServer('ok').start();
        servers.push(healthy);
        bad = await badServers();
        const register = async (sub, endpoint) => {
            const r = await post(b, '/api/unifiedpush/register', await readerToken(`up-${sub}`), { endpoint });
            assert.equal(r.status, 201, r.body);
        };
        // registration makes a discovery GET: the endpoints behave until they are registered
        await register('healthy', healthy.url('/up/healthy'));
        for (const [mode, s] of Object.entries(bad)) {
            await register(mode, s.url(`/up/${mode}`));
            s.setMode(mode);
        }
    });

    const keyOf = (r) => JSON.parse(r.body.toString('utf8')).payload.key;

    test(`${N} events at ${RATE}/s: the healthy endpoint keeps its pace, at most ${ORIGIN_INFLIGHT_MAX} requests per bad origin; after recovery nothing is lost`, async () => {
        const run = await publishRun('up', N);
        await until(() => healthy.posts().length >= N, 'every event at the healthy endpoint', 15000);
        await sleep(1000);
        checkHealthyAndLimits('UnifiedPush', () => healthy.posts().map((r) => ({ key: keyOf(r), at: r.at })), bad, run);
        assert.equal(bad.flood.byMode.flood, N, 'one request per event to the flooding endpoint');
        for (const mode of BAD_MODES) if (mode !== 'flood') bad[mode].recover();
        for (const mode of BAD_MODES) {
            if (mode === 'flood') continue;
            await until(() => bad[mode].posts().length >= N, `every event at the ${mode} endpoint once it behaves`, 30000);
            assert.deepEqual(bad[mode].posts().map(keyOf).sort(), [...run.keys].sort(), `${mode}: every event once`);
        }
        await until(async () => (await b.metrics())['mqpush_bridge_push_pending{channel="unifiedpush"}'] === 0, 'nothing pending');
    });
});

describe('silent origins and max_inflight', () => {
    test(
        'silent origins that fill max_inflight between them do not hold back a healthy one',
        async () => {
            const b = await startBridge('inflight', {
                webpush: {
                    subject: 'mailto:ops@mqpush.test',
                    ttl_s: 600,
                    max_inflight: 2 * ORIGIN_INFLIGHT_MAX,
                    ...RETRY,
                    streams: [{ tenant: 't', stream: 'alerts', default: true }],
                },
            });
            const ps = await new PushService().start();
            servers.push(ps);
            const vapid = JSON.parse((await request(b.port, '/api/push/vapid')).body).key;
            const healthy = userAgent();
            let r = await post(b, '/api/push/subscribe', await readerToken('mi-healthy'), { subscription: { endpoint: ps.endpoint('h'), keys: healthy.keys }, vapid });
            assert.equal(r.status, 201, r.body);
            for (let i = 0; i < 2; i++) {
                const s = await new BadServer('blackhole').start();
                servers.push(s);
                r = await post(b, '/api/push/subscribe', await readerToken(`mi-${i}`), { subscription: { endpoint: s.url('/p'), keys: userAgent().keys }, vapid });
                assert.equal(r.status, 201, r.body);
            }
            const run = await publishRun('mi', 40);
            await ps.until(() => ps.to('/push/h').length >= 40, 'every event at the healthy service', 20000);
            const lat = ps.to('/push/h').map((q) => q.at - run.sentAt.get(JSON.parse(healthy.decrypt(q.body).toString('utf8')).payload.key));
            assert.ok(quantile(lat, 0.99) < LATENCY_P99_MS, summary(lat));
        },
    );
});
