// Two bridges, one broker, one PostgreSQL store: broker.share_group puts their outbound pushes
// (Web Push, UnifiedPush to an application endpoint, SSF SET push) on one MQTT 5 shared
// subscription, so each event is pushed by one of them, while SSE is served by both. Under a
// steady load every durable receiver gets every event once and both bridges do part of the
// work. With the receivers failing and both outboxes filling, one bridge is SIGKILLed: the
// other adopts its rows once its beat has run out and delivers them; the killed one, started
// again under its client id, takes what the broker kept in its session. Nothing is lost;
// repeats carry the same event id. A subscription made through one bridge is served by the
// other, and one removed through the other is served by neither. Last, a bridge serving SSE
// stays down for longer than the other takes to drain its session: nothing lost.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, publisher, request } from './lib/bridge.mjs';
import { freePort } from './lib/net.mjs';
import { PushService, userAgent } from './lib/pushservice.mjs';
import { setReceiver, setVerifier } from './lib/setreceiver.mjs';
import { SseReader } from './lib/sse.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const GROUP = 'mqpush';
const ALERT = 'https://events.mqpush.test/alert';
const PUSH = 'urn:ietf:rfc:8935';
const CHANNELS = ['webpush', 'unifiedpush', 'set'];
const RATE = 100; // events per second while loading
const OUTAGE_S = 12; // how long a bridge stays down under load in the last part
const FAIL = { status: 503, headers: { 'retry-after': '1' } };

let w;
let pub;
let wp; // push service for Web Push
let up; // UnifiedPush application endpoint
let rx; // SET receiver
let recvToken;
let readerToken;
let verifier;
let streamId;
const ua = userAgent();
const bridges = {};
const published = []; // keys, in publishing order

before(async () => {
    w = await createWorld({
        label: 'two-bridges',
        postgresql: true,
        tenants: { t: { streams: [stream('alerts', { subscriberRoles: ['reader'], events: [ev('app', 'alert')] })] } },
    });
    pub = await publisher(w, 't');
    wp = await new PushService().start();
    up = await new PushService().start();
    rx = await setReceiver();
    recvToken = await w.token('t', { sub: 'receiver-1', roles: ['ssf-receiver'], ttl: 3600 });
    readerToken = await w.token('t', { sub: 'rita', sid: 'rita-s', roles: ['reader'], ttl: 3600 });
});

after(async () => {
    await pub?.end().catch(() => {});
    for (const s of [wp, up, rx]) await s?.close().catch(() => {});
    for (const b of Object.values(bridges)) b.kill();
    await w?.dispose();
});

/** A bridge of the group named name with client id mqpush-bridge-<name>, on a port of its own. */
function groupBridge(name, port, publicUrl) {
    const b = new Bridge(w, {
        name,
        store: w.pg.url,
        extra: {
            // Both sign SETs as one issuer: the same public_url.
            public_url: publicUrl,
            broker: {
                host: '127.0.0.1',
                port: w.broker.port,
                client_id: `mqpush-bridge-${name}`,
                token_file: `${name}.token`,
                share_group: GROUP,
            },
            outbound: { allow: ['127.0.0.0/8'] },
            webpush: {
                subject: 'mailto:ops@mqpush.test',
                ttl_s: 600,
                retry_min_ms: 100,
                retry_max_ms: 1000,
                streams: [{ tenant: 't', stream: 'alerts', default: true }],
            },
            unifiedpush: {
                retry_min_ms: 100,
                retry_max_ms: 1000,
                streams: [{ tenant: 't', stream: 'alerts', default: true }],
            },
            ssf: {
                transmitter: {
                    streams: [
                        {
                            tenant: 't',
                            stream: 'alerts',
                            events: [{ namespace: 'app', name: 'alert', type: ALERT, subject_path: 'payload.key' }],
                        },
                    ],
                    delivery: { retry_min_ms: 100, retry_max_ms: 1000, retry_s: 600 },
                },
            },
        },
    });
    b.port = port;
    b.clientId = `mqpush-bridge-${name}`;
    bridges[name] = b;
    return b;
}

async function until(pred, what, timeoutMs = 15000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const v = await pred();
        if (v) return v;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await sleep(50);
    }
}

function api(b, path, { token, body, method = 'POST' } = {}) {
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers = { 'content-length': Buffer.byteLength(text), authorization: `Bearer ${token}` };
    if (text) headers['content-type'] = 'application/json';
    return request(b.port, path, { method, headers, body: text });
}

async function vapidOf(b) {
    const r = await request(b.port, '/api/push/vapid');
    assert.equal(r.status, 200, r.body);
    return JSON.parse(r.body).key;
}

async function webPushSubscribe(b, token, agent, endpoint) {
    const body = { subscription: { endpoint, keys: agent.keys }, vapid: await vapidOf(b) };
    const r = await api(b, '/api/push/subscribe', { token, body });
    assert.equal(r.status, 201, `subscribe ${endpoint} through ${b.name}: ${r.body}`);
}

async function unifiedPushRegister(b, token, endpoint) {
    const r = await api(b, '/api/unifiedpush/register', { token, body: { endpoint } });
    assert.equal(r.status, 201, `register ${endpoint} through ${b.name}: ${r.body}`);
}

/** Publish one event per key at RATE per second; resolves once the broker took them all. */
async function publishPaced(keys, rate = RATE) {
    const t0 = Date.now();
    const acks = [];
    for (const [i, key] of keys.entries()) {
        const wait = t0 + (i * 1000) / rate - Date.now();
        if (wait > 0) await sleep(wait);
        published.push(key);
        acks.push(pub.publish('app', 'alert', { payload: { key } }));
    }
    await Promise.all(acks);
}

const keysOf = (prefix, n) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

// Requests are read once (decrypting is slow, and the services answer on this thread).
const readOnce = (r, read) => (r.seen ??= read(r));

/** The accepted pushes at path of service s, as {key, id}; plain JSON or decrypted for agent. */
function accepted(s, path, agent) {
    return s
        .to(path)
        .filter((r) => r.method === 'POST' && r.status >= 200 && r.status < 300)
        .map((r) =>
            readOnce(r, () => {
                const e = JSON.parse((agent ? agent.decrypt(r.body) : r.body).toString('utf8'));
                return { key: e.payload?.key, id: e.id };
            }),
        );
}

/** The accepted SETs of the stream, as {key, id, jti} (the SET's txn is the event id). */
function acceptedSets() {
    return rx
        .to('/set')
        .filter((r) => r.status >= 200 && r.status < 300)
        .map((r) =>
            readOnce(r, () => {
                const c = JSON.parse(Buffer.from(r.body.split('.')[1], 'base64url').toString('utf8'));
                return { key: c.sub_id?.id, id: c.txn, jti: c.jti };
            }),
        );
}

const durable = {
    webpush: () => accepted(wp, '/push/wp-a', ua),
    unifiedpush: () => accepted(up, '/push/up-a'),
    set: () => acceptedSets(),
};

/**
 * What a receiver got of keys: delivered (distinct keys), duplicates (further copies with the
 * key's first id), conflicts (a key seen with two ids), lost, unexpected (keys not asked for).
 */
function tally(got, keys) {
    const want = new Set(keys);
    const ids = new Map();
    let duplicates = 0;
    let conflicts = 0;
    let unexpected = 0;
    for (const { key, id } of got) {
        if (!want.has(key)) {
            unexpected++;
            continue;
        }
        if (!ids.has(key)) ids.set(key, id);
        else if (ids.get(key) === id) duplicates++;
        else conflicts++;
    }
    const lost = keys.filter((k) => !ids.has(k)).length;
    return { delivered: ids.size, duplicates, conflicts, lost, unexpected };
}

const complete = (keys) => () => CHANNELS.every((ch) => tally(durable[ch](), keys).lost === 0);

/** mqpush_bridge_push_total{channel,result} of a running bridge, per channel. */
async function pushCounts(b, result = 'delivered') {
    const m = await b.metrics();
    const at = (ch) => m[`mqpush_bridge_push_total{channel="${ch}",result="${result}"}`] ?? 0;
    return Object.fromEntries(CHANNELS.map((ch) => [ch, at(ch)]));
}

async function pendingOf(b) {
    const m = await b.metrics();
    return Object.fromEntries(CHANNELS.map((ch) => [ch, m[`mqpush_bridge_push_pending{channel="${ch}"}`] ?? 0]));
}

const sum = (o) => Object.values(o).reduce((x, y) => x + y, 0);
const minus = (x, y) => Object.fromEntries(CHANNELS.map((ch) => [ch, x[ch] - (y?.[ch] ?? 0)]));

/** The outbox rows owned by node, per channel: event ids (SETs: the event id of the jti). */
async function outboxOf(node) {
    const rows = await w.pg.query(
        `SELECT s.channel || ' ' || o.event_id FROM push_outbox o JOIN push_sub s ON s.id = o.sub_id` +
            ` WHERE o.node = '${node}'` +
            ` UNION ALL SELECT 'set ' || split_part(jti, '.', 1) FROM ssf_outbox WHERE node = '${node}'`,
    );
    const out = Object.fromEntries(CHANNELS.map((ch) => [ch, []]));
    for (const line of rows.split('\n').filter(Boolean)) {
        const [ch, id] = line.split(' ');
        out[ch].push(id);
    }
    return out;
}

function printTable(title, header, rows) {
    const widths = header.map((h, i) => Math.max(String(h).length, ...rows.map((r) => String(r[i]).length)));
    const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
    const rule = `|${widths.map((n) => '-'.repeat(n + 2)).join('|')}|`;
    console.log(`\n${title}\n${line(header)}\n${rule}\n${rows.map(line).join('\n')}`);
}

/** How a bridge's drain of another's broker session ended (logged since from), or null. */
function drainOf(bridge, from) {
    const m = bridge.output.slice(from).match(/cluster: broker session of \S+ (.+)\n/);
    return m ? m[1] : null;
}

/** For the tables: the drain's outcome, "running" or "not started". */
function drainState(bridge, from) {
    const text = bridge.output.slice(from);
    return drainOf(bridge, from) ?? (/cluster: draining the broker session/.test(text) ? 'running' : 'not started');
}

describe('two bridges in one share group', () => {
    let a;
    let b;
    const sse = {};

    before(async () => {
        const portA = await freePort();
        const publicUrl = `http://127.0.0.1:${portA}`;
        a = groupBridge('a', portA, publicUrl);
        await a.start({ samePort: true });
        // Made through a, before b starts: the first two parts do not depend on b learning of
        // subscriptions made elsewhere (the third part checks that).
        const r = await api(a, '/ssf/t/streams', {
            token: recvToken,
            body: { events_requested: [ALERT], delivery: { method: PUSH, endpoint_url: rx.url('/set') } },
        });
        assert.equal(r.status, 201, r.body);
        streamId = JSON.parse(r.body).stream_id;
        await webPushSubscribe(a, readerToken, ua, wp.endpoint('wp-a'));
        await unifiedPushRegister(a, readerToken, up.endpoint('up-a'));
        b = groupBridge('b', await freePort(), publicUrl);
        await b.start({ samePort: true });
        verifier = await setVerifier(a.url, 't');
    });

    after(async () => {
        for (const r of Object.values(sse)) r.close();
    });

    test('one store: both bridges sign with the same VAPID key and beat under their client ids', async () => {
        assert.equal(await vapidOf(b), await vapidOf(a));
        const nodes = await until(async () => {
            const rows = (await w.pg.query('SELECT node FROM nodes ORDER BY node')).split('\n');
            return rows.includes(a.clientId) && rows.includes(b.clientId) && rows;
        }, 'both bridges in the nodes table', 10000);
        assert.ok(nodes);
    });

    test('steady load: each durable receiver gets every event once, both bridges push, SSE gets all', async () => {
        for (const n of ['a', 'b']) {
            sse[n] = await SseReader.open(`${bridges[n].url}/stream/v1/streams/alerts?token=${readerToken}`);
            assert.equal(sse[n].status, 200);
        }
        await sleep(300); // the SSE streams attached
        const keys = keysOf('steady', 3 * RATE);
        const t0 = Date.now();
        await publishPaced(keys);
        const publishedMs = Date.now() - t0;
        await until(complete(keys), 'every steady event at every durable receiver', 20000);
        for (const n of ['a', 'b']) await sse[n].waitEvents(keys.length, { timeoutMs: 10000 });
        await sleep(500); // room for a late copy

        const counts = { a: await pushCounts(a), b: await pushCounts(b) };
        const rows = [];
        for (const ch of CHANNELS) {
            const t = tally(durable[ch](), keys);
            rows.push([ch, keys.length, t.delivered, t.duplicates, t.conflicts, t.lost, counts.a[ch], counts.b[ch]]);
        }
        for (const n of ['a', 'b']) {
            const got = sse[n].events().filter((e) => e.payload?.key?.startsWith('steady-'));
            const t = tally(got.map((e) => ({ key: e.payload.key, id: e.id })), keys);
            rows.push([`sse on ${n}`, keys.length, t.delivered, t.duplicates, t.conflicts, t.lost, '-', '-']);
        }
        printTable(
            `steady load: ${keys.length} events at ${RATE}/s (published in ${publishedMs} ms)`,
            ['receiver', 'published', 'delivered', 'duplicates', 'other ids', 'lost', 'pushed by a', 'pushed by b'],
            rows,
        );
        for (const ch of CHANNELS) {
            const t = tally(durable[ch](), keys);
            assert.deepEqual([t.delivered, t.duplicates, t.conflicts, t.lost, t.unexpected], [keys.length, 0, 0, 0, 0]);
            assert.ok(counts.a[ch] > 0 && counts.b[ch] > 0, `${ch}: a pushed ${counts.a[ch]}, b ${counts.b[ch]}`);
            assert.equal(counts.a[ch] + counts.b[ch], keys.length, `${ch}: pushes of a and b add up to the events`);
        }
        for (const n of ['a', 'b']) {
            const got = sse[n].events().filter((e) => e.payload?.key?.startsWith('steady-'));
            assert.deepEqual(got.map((e) => e.payload.key), keys, `SSE on ${n}: every event once, in order`);
            sse[n].close();
        }
        // Every SET verifies against the transmitter's published keys, whoever signed it.
        for (const r of rx.to('/set')) {
            const c = await verifier.verify(r.body, 'receiver-1');
            assert.equal(c.jti, `${c.txn}.${streamId}`);
        }
    });

    test('receivers failing, a SIGKILLed under load: b adopts its outbox, a restarted takes its session', async () => {
        const keys = keysOf('kill', 6 * RATE);
        const base = Object.fromEntries(CHANNELS.map((ch) => [ch, durable[ch]().length]));
        wp.script.set('/push/wp-a', new Array(200000).fill(FAIL));
        up.script.set('/push/up-a', new Array(200000).fill(FAIL));
        rx.answer('/set', ...new Array(20000).fill({ status: 503 }));

        const load = publishPaced(keys);
        await sleep(3000);
        const pendingAtKill = { a: await pendingOf(a), b: await pendingOf(b) };
        const countsBeforeKill = await pushCounts(a); // a's counters die with it
        const adoptFrom = b.mark();
        a.kill();
        const killedAt = Date.now();
        const sentBeforeKill = published.filter((k) => k.startsWith('kill-')).length;
        await a.exitPromise;
        const orphans = await outboxOf(a.clientId);
        await load; // the rest is published while a is away
        // the receivers recover
        wp.script.delete('/push/wp-a');
        up.script.delete('/push/up-a');
        rx.clear('/set');

        // a's rows, by event id, reach their receivers with a still down: b adopted them.
        const missing = () =>
            Object.fromEntries(
                CHANNELS.map((ch) => {
                    const ids = new Set(durable[ch]().map((e) => e.id));
                    return [ch, orphans[ch].filter((id) => !ids.has(id)).length];
                }),
            );
        let adoptedMs = null;
        await until(() => sum(missing()) === 0, "bridge a's pending rows delivered by b", 25000)
            .then(() => (adoptedMs = Date.now() - killedAt))
            .catch(() => {});
        const left = await outboxOf(a.clientId);
        // What b says it took over ("took over N pending messages/SETs"), per channel.
        const tookOver = Object.fromEntries(CHANNELS.map((ch) => [ch, 0]));
        for (const m of b.output.slice(adoptFrom).matchAll(/(webpush|unifiedpush|ssf): took over (\d+) pending/g))
            tookOver[m[1] === 'ssf' ? 'set' : m[1]] += Number(m[2]);
        const notAdopted = {
            missing: missing(),
            left: Object.fromEntries(CHANNELS.map((ch) => [ch, left[ch].length])),
        };
        if (adoptedMs === null) {
            const nodes = (await w.pg.query('SELECT node, alive_until FROM nodes')).replace(/\n/g, '; ');
            console.log(`\nnot adopted ${Date.now() - killedAt} ms after the SIGKILL: ${JSON.stringify(notAdopted)}`);
            console.log(`nodes: ${nodes} (now ${Date.now()})`);
        }

        // With a still down, b drains a's broker session too: what Mosquitto gave the offline
        // member of the group after the kill reaches the receivers without a.
        let drainedMs = null;
        await until(complete(keys), 'every event of this part with a still down', 20000)
            .then(() => (drainedMs = Date.now() - killedAt))
            .catch(() => {});
        const beforeRestart = Object.fromEntries(
            CHANNELS.map((ch) => [ch, tally(durable[ch]().slice(base[ch]), keys).delivered]),
        );
        const drain = drainState(b, adoptFrom);

        // a again, same client id: whatever was still in its session is its own again.
        const restartedAt = Date.now();
        await a.start({ samePort: true });
        let completeMs = null;
        await until(complete(keys), 'every event of the kill phase at every receiver', 30000)
            .then(() => (completeMs = Date.now() - restartedAt))
            .catch(() => {});
        await sleep(1500); // late copies would show up in the counts
        const countsAfter = { a: await pushCounts(a), b: await pushCounts(b) };

        printTable(
            `pending when a was killed (${sentBeforeKill} of ${keys.length} events published by then)`,
            ['bridge', ...CHANNELS.map((ch) => `${ch} pending`), 'outbox rows owned in the store'],
            [
                ['a', ...CHANNELS.map((ch) => pendingAtKill.a[ch]), CHANNELS.map((ch) => orphans[ch].length).join('/')],
                ['b', ...CHANNELS.map((ch) => pendingAtKill.b[ch]), '-'],
            ],
        );
        const rows = CHANNELS.map((ch) => {
            const t = tally(durable[ch]().slice(base[ch]), keys);
            const row = [ch, keys.length, beforeRestart[ch], t.delivered, t.duplicates, t.conflicts, t.lost];
            return [...row, orphans[ch].length, tookOver[ch]];
        });
        printTable(
            `after the kill (ms after the SIGKILL): a's rows delivered by b at ${adoptedMs ?? 'never'},` +
                ` every event at ${drainedMs ?? 'never'} (b's drain of a's session: ${drain});` +
                ` a restarted, all in ${completeMs ?? 'never'} ms`,
            [
                'receiver',
                'published',
                "before a's restart",
                'delivered',
                'repeats (same id)',
                'other ids',
                'lost',
                "a's rows",
                'b took over',
            ],
            rows,
        );
        printTable(
            `pushes accepted per bridge (${keys.length - sentBeforeKill} of these events published with a down)`,
            ['bridge', ...CHANNELS],
            [
                ['a before kill', ...CHANNELS.map((ch) => countsBeforeKill[ch])],
                ['a restarted', ...CHANNELS.map((ch) => countsAfter.a[ch])],
                ['b', ...CHANNELS.map((ch) => countsAfter.b[ch])],
            ],
        );
        assert.ok(sum(pendingAtKill.a) > 0, 'a had pending rows when killed');
        assert.ok(sum(pendingAtKill.b) > 0, 'b had pending rows when a was killed');
        assert.ok(adoptedMs !== null && adoptedMs < 20000, `b did not deliver a's rows: ${JSON.stringify(notAdopted)}`);
        assert.ok(drainedMs !== null, `with a down, b delivered only ${JSON.stringify(beforeRestart)}; drain: ${drain}`);
        for (const ch of CHANNELS) {
            const t = tally(durable[ch]().slice(base[ch]), keys);
            assert.equal(t.lost, 0, `${ch}: lost`);
            assert.equal(t.conflicts, 0, `${ch}: a key with two event ids`);
            assert.equal(t.unexpected, 0, `${ch}: unexpected keys`);
            assert.equal(tookOver[ch], orphans[ch].length, `${ch}: b took over every row of a`);
        }
        // SETs signed by b for rows a wrote verify like any other.
        for (const r of rx.to('/set').filter((q) => q.status === 202)) await verifier.verify(r.body, 'receiver-1');
    });

    test('a subscription made through b is served for events a handles; removed through a, by neither', async () => {
        const agent = userAgent();
        const token = await w.token('t', { sub: 'xena', sid: 'xena-s', roles: ['reader'], ttl: 3600 });
        await webPushSubscribe(b, token, agent, wp.endpoint('wp-b'));
        await unifiedPushRegister(b, token, up.endpoint('up-b'));
        const start = { a: await pushCounts(a), b: await pushCounts(b) };
        const keys = keysOf('cross', 60);
        await publishPaced(keys, 50);
        const got = () => ({ webpush: accepted(wp, '/push/wp-b', agent), unifiedpush: accepted(up, '/push/up-b') });
        // On a timeout the table below shows what is missing.
        await until(
            () => tally(got().webpush, keys).lost === 0 && tally(got().unifiedpush, keys).lost === 0,
            'every event at the new subscriptions',
            15000,
        ).catch(() => {});
        await until(complete(keys), 'every event at the first subscriptions', 15000);
        const delta = { a: minus(await pushCounts(a), start.a), b: minus(await pushCounts(b), start.b) };
        const rows = ['webpush', 'unifiedpush'].map((ch) => {
            const t = tally(got()[ch], keys);
            return [`${ch} (made through b)`, keys.length, t.delivered, t.duplicates, t.lost, delta.a[ch], delta.b[ch]];
        });
        printTable(
            'a subscription made through b, events split between a and b',
            ['receiver', 'published', 'delivered', 'duplicates', 'lost', 'pushed by a (2 subs)', 'by b (2 subs)'],
            rows,
        );
        for (const ch of ['webpush', 'unifiedpush']) {
            const t = tally(got()[ch], keys);
            assert.ok(delta.a[ch] > 0 && delta.b[ch] > 0, `${ch}: both bridges handled events`);
            assert.equal(t.lost, 0, `${ch}: the subscription made through b missed ${t.lost} events`);
            assert.equal(t.duplicates, 0, `${ch}: duplicates`);
            assert.equal(delta.a[ch] + delta.b[ch], 2 * keys.length, `${ch}: each event once to each subscription`);
        }

        // Removed through a: neither bridge pushes to it any more.
        for (const [path, endpoint] of [
            ['/api/push/subscribe', wp.endpoint('wp-b')],
            ['/api/unifiedpush/register', up.endpoint('up-b')],
        ]) {
            const r = await api(a, path, { token, method: 'DELETE', body: { endpoint } });
            assert.equal(r.status, 204, `${path}: ${r.body}`);
        }
        const seen = { webpush: got().webpush.length, unifiedpush: got().unifiedpush.length };
        const later = keysOf('gone', 40);
        await publishPaced(later, 50);
        await until(complete(later), 'the next events at the first subscriptions', 15000);
        await sleep(500);
        assert.equal(got().webpush.length, seen.webpush, 'web push: nothing after the removal');
        assert.equal(got().unifiedpush.length, seen.unifiedpush, 'unifiedpush: nothing after the removal');
    });

    // Mosquitto gives an offline member of a shared subscription its share and queues it in
    // that member's session, up to max_queued_messages (1000 unless configured) per client, and
    // drops what comes after. The plain subscriptions of a bridge serving SSE live in a session
    // of their own ("<client id>-fanout"), so the group's share is all the durable session
    // holds; b drains it once a's beat has run out (5 s), well before it is full at this rate.
    test(
        'a bridge serving SSE down for longer than its beat: its session drained, nothing lost',
        async () => {
            const keys = keysOf('outage', (2 + OUTAGE_S) * RATE);
            const base = Object.fromEntries(CHANNELS.map((ch) => [ch, durable[ch]().length]));
            // A reader on a: its plain subscription for the stream is in a's session when it dies.
            const reader = await SseReader.open(`${a.url}/stream/v1/streams/alerts?token=${readerToken}`);
            assert.equal(reader.status, 200);
            await sleep(300);
            const brokerFrom = w.broker.log().length;
            const from = b.mark();
            const load = publishPaced(keys);
            await sleep(2000);
            a.kill();
            const killedAt = Date.now();
            await a.exitPromise;
            reader.close();
            await load;
            // Until every event arrived, or b's drain has ended and nothing more came for 2 s.
            let doneMs = null;
            let drainEnded = null;
            await until(
                () => {
                    if (complete(keys)()) return (doneMs = Date.now() - killedAt);
                    if (drainOf(b, from) && drainEnded === null) drainEnded = Date.now();
                    return drainEnded !== null && Date.now() - drainEnded > 2000;
                },
                'every event, or the end of the drain',
                40000,
            ).catch(() => {});
            const drain = drainState(b, from);
            const dropped = w.broker
                .log()
                .slice(brokerFrom)
                .match(/^(\S+): Outgoing messages are being dropped for client mqpush-bridge-a(?!-fanout)/m);
            await a.start({ samePort: true });
            await sleep(1500);
            const rows = CHANNELS.map((ch) => {
                const t = tally(durable[ch]().slice(base[ch]), keys);
                return [ch, keys.length, t.delivered, t.duplicates, t.conflicts, t.lost];
            });
            printTable(
                `a down for ${OUTAGE_S} s under load (killed at ${new Date(killedAt).toISOString()}): every event` +
                    ` ${doneMs === null ? 'never' : `${doneMs} ms after the kill`}; b's drain: ${drain};` +
                    ` broker: ${dropped ? `dropping messages for a's session from ${dropped[1]}` : 'nothing dropped'}`,
                ['receiver', 'published', 'delivered', 'repeats (same id)', 'other ids', 'lost'],
                rows,
            );
            for (const ch of CHANNELS) assert.equal(tally(durable[ch]().slice(base[ch]), keys).lost, 0, `${ch}: lost`);
        },
    );

    test('both bridges and the broker end cleanly', async () => {
        await a.stop();
        await b.stop();
        await pub.end();
        pub = null;
        await w.close();
        w = null;
    });
});
