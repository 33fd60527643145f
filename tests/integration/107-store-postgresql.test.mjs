// The bridge on a PostgreSQL store (a throwaway cluster, lib/pg.mjs) instead of SQLite: Web
// Push subscriptions and the VAPID key are kept in the database (looked at with psql), an event
// is delivered, and after a SIGKILL with messages pending the restarted bridge finds the same
// key, the subscription and its outbox there and delivers every event once. A bridge given an
// unreachable server refuses to start and says why.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, publisher, request } from './lib/bridge.mjs';
import { freePort } from './lib/net.mjs';
import { PushService, userAgent } from './lib/pushservice.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const PENDING = 'mqpush_bridge_push_pending{channel="webpush"}';
const SUBS = 'mqpush_bridge_push_subscriptions{channel="webpush"}';

let w;
let pub;
let ps;
const bridges = [];

before(async () => {
    w = await createWorld({
        label: 'store-pg',
        postgresql: true,
        tenants: {
            t: { streams: [stream('alerts', { subscriberRoles: ['reader'], events: [ev('app', 'alert')] })] },
        },
    });
    pub = await publisher(w, 't');
    ps = await new PushService().start();
});

after(async () => {
    await pub?.end().catch(() => {});
    await ps?.close().catch(() => {});
    for (const b of bridges) b.kill();
    await w?.dispose();
});

function pgBridge(name, store = w.pg.url) {
    const b = new Bridge(w, {
        name,
        store,
        extra: {
            outbound: { allow: ['127.0.0.0/8'] },
            webpush: {
                subject: 'mailto:ops@mqpush.test',
                ttl_s: 600,
                retry_min_ms: 100,
                retry_max_ms: 400,
                streams: [{ tenant: 't', stream: 'alerts', default: true }],
            },
        },
    });
    bridges.push(b);
    return b;
}

async function until(pred, what, timeoutMs = 15000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const v = await pred();
        if (v) return v;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await sleep(25);
    }
}

const metric = async (b, name) => (await b.metrics())[name] ?? 0;
const send = (key) => pub.publish('app', 'alert', { payload: { key } });

async function vapidOf(b) {
    const r = await request(b.port, '/api/push/vapid');
    assert.equal(r.status, 200, r.body);
    return JSON.parse(r.body).key;
}

function api(b, token, method, body) {
    const text = JSON.stringify(body);
    return request(b.port, '/api/push/subscribe', {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
        body: text,
    });
}

/** The keys of the events that reached path, decrypted for ua, each with its event id. */
function received(path, ua) {
    return ps.to(path).filter((r) => r.method === 'POST').map((r) => JSON.parse(ua.decrypt(r.body).toString('utf8')));
}

describe('a bridge on PostgreSQL', () => {
    let b;
    let u;
    let token;
    let vapid;

    before(async () => {
        b = pgBridge('pgb');
        await b.start();
        u = userAgent();
        token = await w.token('t', { sub: 'pia', sid: 'pia-s', roles: ['reader'], ttl: 600 });
    });

    after(async () => {
        await b.stop();
    });

    test('the schema is made in the database and no SQLite file is written', async () => {
        const version = Number(await w.pg.query('SELECT max(version) FROM schema_version'));
        assert.ok(version >= 6, `schema version ${version}`);
        assert.equal(fs.existsSync(path.join(w.dir, 'pgb.db')), false);
    });

    test('a subscription is kept there and an event delivered', async () => {
        vapid = await vapidOf(b);
        const r = await api(b, token, 'POST', { subscription: { endpoint: ps.endpoint('pia'), keys: u.keys }, vapid });
        assert.equal(r.status, 201, r.body);
        assert.equal(await w.pg.query("SELECT \"user\" || ' ' || session FROM push_sub WHERE channel = 'webpush'"), 'pia pia-s');
        await send('first');
        await ps.until(() => received('/push/pia', u).some((e) => e.payload?.key === 'first'), 'the first event');
        await until(async () => (await metric(b, PENDING)) === 0, 'the outbox empty');
        assert.equal(await w.pg.query('SELECT count(*) FROM push_outbox'), '0');
    });

    test('after a SIGKILL with messages pending: the same key, subscription and outbox', async () => {
        const N = 4;
        ps.answer('/push/pia', ...Array.from({ length: 1000 }, () => ({ status: 503 })));
        for (let i = 0; i < N; i++) await send(`held-${i}`);
        await until(async () => (await metric(b, PENDING)) === N, `${N} messages pending`);
        assert.equal(await w.pg.query('SELECT count(*) FROM push_outbox'), String(N));

        b.kill();
        await b.exitPromise;
        ps.script.delete('/push/pia'); // from now on: 201
        const cut = ps.to('/push/pia').length;
        const from = b.mark();
        await b.start({ samePort: true });
        const m = await b.waitForOutput(/webpush: \d+ streams, (\d+) subscriptions, (\d+) messages pending/, { from });
        assert.equal(Number(m[1]), 1, 'the subscription was kept');
        assert.equal(Number(m[2]), N, 'the outbox was kept');
        assert.equal(await vapidOf(b), vapid, 'the VAPID key was kept');
        assert.equal(await metric(b, SUBS), 1);

        const want = Array.from({ length: N }, (_, i) => `held-${i}`);
        const got = () =>
            ps
                .to('/push/pia')
                .slice(cut)
                .map((r) => JSON.parse(u.decrypt(r.body).toString('utf8')));
        await ps.until(() => want.every((k) => got().some((e) => e.payload?.key === k)), 'every held event');
        await until(async () => (await metric(b, PENDING)) === 0, 'the outbox empty');
        const ids = new Map();
        for (const e of got()) ids.set(e.payload?.key, new Set([...(ids.get(e.payload?.key) ?? []), e.id]));
        for (const k of want) assert.equal(ids.get(k).size, 1, `${k} came with ${ids.get(k).size} ids`);
        assert.equal(await w.pg.query('SELECT count(*) FROM push_outbox'), '0');

        const r = await api(b, token, 'DELETE', { endpoint: ps.endpoint('pia') });
        assert.equal(r.status, 204, r.body);
        assert.equal(await w.pg.query('SELECT count(*) FROM push_sub'), '0');
    });
});

test('an unreachable PostgreSQL: the bridge does not start and says why', async () => {
    const port = await freePort(); // nothing listens there
    const b = pgBridge('pgdown', `postgresql://mqp:pw-not-shown@127.0.0.1:${port}/mqpush?connect_timeout=3`);
    await assert.rejects(b.start(), /exited/);
    await b.exitPromise;
    assert.notEqual(b.exited.code, 0);
    assert.match(b.output, /store: cannot connect to PostgreSQL: .*127\.0\.0\.1/);
    assert.doesNotMatch(b.output, /pw-not-shown/);
});
