// Valgrind's memcheck on the bridge and on Mosquitto with the plugin, both built without
// sanitizers (valgrind cannot run ASan binaries; ctest passes the tree of scripts/test.sh's
// plain Debug build as MQP_BUILD_DIR), over a short run that goes through every channel once:
// SSE (and its resume by Last-Event-ID), socket.io on WebSocket, on polling and upgraded from
// polling (with heartbeats, and a recovery after a cut transport), ten seconds of steady traffic
// while other sockets churn, MQTT with a token, Web Push,
// UnifiedPush (SERV and Web Push form, and the bridge as provider with its distributor), SSF
// push, push services answering 503, 410 and 404, refusals, a SIGHUP to both, a broker restart
// the bridge reconnects across, then SIGTERM. The test fails on any valgrind error or
// definite leak in either process; tests/valgrind/valgrind.supp holds the suppressions, each
// for a library's own noise, with its reason.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Bridge, publisher, request } from '../integration/lib/bridge.mjs';
import { BRIDGE, requireFile } from '../integration/lib/env.mjs';
import { connect, end, subscribe, tryConnect } from '../integration/lib/mqtt.mjs';
import { freePort } from '../integration/lib/net.mjs';
import { PushService, userAgent } from '../integration/lib/pushservice.mjs';
import { setReceiver } from '../integration/lib/setreceiver.mjs';
import { closeSocket, connected, eventsNamed, refused, sio, until } from '../integration/lib/sio.mjs';
import { SseReader } from '../integration/lib/sse.mjs';
import { ev, stream } from '../integration/lib/streams.mjs';
import { createWorld } from '../integration/lib/world.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const VALGRIND = process.env.MQP_VALGRIND || 'valgrind';
const TYPE = 'urn:mqpush:t:event:app:sec';
const SLOW = 60000; // everything runs 20-50 times slower under valgrind

/** memcheck's options; log: where its report goes. */
function valgrindArgs(log) {
    return [
        '--leak-check=full',
        '--show-leak-kinds=definite',
        '--errors-for-leak-kinds=definite',
        '--error-exitcode=99',
        '--num-callers=40',
        '--gen-suppressions=all',
        `--suppressions=${path.join(here, 'valgrind.supp')}`,
        `--log-file=${log}`,
    ];
}

/** The bridge under valgrind; otherwise lib/bridge.mjs's Bridge. */
class ValgrindBridge extends Bridge {
    async start() {
        requireFile(BRIDGE, 'mqpush-bridge');
        this.port = await freePort();
        this.options.extra.public_url = this.url;
        this.valgrindLog = path.join(this.world.dir, 'bridge.valgrind.log');
        await this.writeConfig();
        this.exited = null;
        const proc = spawn(VALGRIND, [...valgrindArgs(this.valgrindLog), BRIDGE, '-c', this.configFile], {
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        this.proc = proc;
        const take = (d) => (this.output += d.toString('utf8'));
        proc.stdout.on('data', take);
        proc.stderr.on('data', take);
        this.exitPromise = once(proc, 'exit').then(([code, signal]) => (this.exited = { code, signal }));
        await this.waitForOutput(/listening on/, { timeoutMs: SLOW });
        await this.waitHealthy({ timeoutMs: SLOW });
        return this;
    }
}

/** What valgrind said, when it found anything: its error blocks and the leak summary. */
function findings(log) {
    const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
    const errors = Number(/ERROR SUMMARY: (\d+) errors/.exec(text)?.[1] ?? NaN);
    return { errors, text };
}

let w;
let bridge;
let pub;
let ps;
let rx;
let user;
const clients = [];
const brokerStops = []; // what stopping a broker under valgrind said, when it failed

before(async () => {
    w = await createWorld({
        label: 'valgrind',
        start: false,
        tenants: {
            t: {
                streams: [
                    stream('live', { publicSubscribe: true, events: [ev('app', 'tick')] }),
                    stream('wp', { subscriberRoles: ['reader'], events: [ev('app', 'wp')] }),
                    stream('up', { subscriberRoles: ['reader'], events: [ev('app', 'up')] }),
                    stream('sec', { subscriberRoles: ['reader'], events: [ev('app', 'sec')] }),
                ],
            },
        },
    });
    // read by tests/valgrind/mosquitto.sh, which MQP_MOSQUITTO names
    process.env.MQP_VG_ARGS = valgrindArgs(path.join(w.dir, 'mosquitto.%p.valgrind.log')).join('\n');
    await w.broker.start();
    ps = await new PushService().start();
    rx = await setReceiver();
    bridge = await new ValgrindBridge(w, {
        extra: {
            socketio: { ping_interval_ms: 300, ping_timeout_ms: 5000 },
            outbound: { allow: ['127.0.0.0/8'] },
            webpush: {
                subject: 'mailto:ops@mqpush.test',
                retry_min_ms: 100,
                streams: [{ tenant: 't', stream: 'wp', default: true }],
            },
            unifiedpush: {
                retry_min_ms: 100,
                streams: [{ tenant: 't', stream: 'up', default: true }],
                provider: { rate_per_min: 6000, burst: 100 },
            },
            ssf: {
                transmitter: {
                    streams: [{ tenant: 't', stream: 'sec', events: [{ namespace: 'app', name: 'sec', type: TYPE, subject_path: 'payload.user' }] }],
                    delivery: { retry_min_ms: 100 },
                },
            },
        },
    }).start();
    pub = await publisher(w, 't');
    user = await w.token('t', { sub: 'u1', sid: 's1', roles: ['reader'], ttl: 600 });
});

after(async () => {
    for (const c of clients) c();
    await pub?.end().catch(() => {});
    await ps?.close();
    await rx?.close();
    bridge?.kill();
    w?.broker?.kill();
    await w?.dispose();
});

const bearer = (tok) => ({ authorization: `Bearer ${tok}` });
function api(method, pathname, body, tok = user) {
    const text = body === undefined ? '' : JSON.stringify(body);
    return request(bridge.port, pathname, {
        method,
        headers: { ...bearer(tok), 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
        body: text,
        timeoutMs: SLOW,
    });
}

let n = 0;
const tick = () => pub.publish('app', 'tick', { payload: { n: ++n } });

test('SSE, socket.io (WebSocket, polling, upgraded) and MQTT deliver', async () => {
    const sse = await SseReader.open(`${bridge.url}/stream/v1/streams/live?tenant=t`);
    clients.push(() => sse.close());
    await sse.waitNamed('mqpush:ready', { timeoutMs: SLOW });
    const sockets = [{ transports: ['websocket'] }, { transports: ['polling'] }, {}].map((o) =>
        sio(bridge, '/t?stream=live', { ...o, timeout: SLOW }),
    );
    for (const s of sockets) clients.push(() => closeSocket(s));
    await Promise.all(sockets.map((s) => connected(s, SLOW)));
    const listener = await connect(w.port(), { username: 'listener', password: await w.token('t', { roles: ['stream-listener'] }) });
    clients.push(() => end(listener).catch(() => {}));
    assert.equal(await subscribe(listener, 't/live/#'), 1);
    for (let i = 0; i < 3; i++) await tick();
    await sse.waitEvents(3, { timeoutMs: SLOW });
    for (const s of sockets) await until(() => eventsNamed(s, 'app:tick').length >= 3, 'three socket.io events', SLOW);
    await listener.inbox.waitFor(() => true, { count: 3, timeoutMs: SLOW });
    assert.deepEqual(sse.events().map((e) => e.payload.n), [1, 2, 3]);
    // the default socket started on polling and upgraded
    await until(() => sockets[2].io.engine.transport.name === 'websocket', 'the upgrade', SLOW);
});

test('ten seconds of 20 events/s to SSE, WebSocket and polling readers while others churn', async () => {
    const sse = await SseReader.open(`${bridge.url}/stream/v1/streams/live?tenant=t`);
    clients.push(() => sse.close());
    await sse.waitNamed('mqpush:ready', { timeoutMs: SLOW });
    const sockets = [['websocket'], ['polling']].map((transports) => sio(bridge, '/t?stream=live', { transports, timeout: SLOW }));
    for (const s of sockets) clients.push(() => closeSocket(s));
    // sockets on the same stream whose transport is cut every 50 ms and that come back
    const churning = Array.from({ length: 4 }, () =>
        sio(bridge, '/t?stream=live', { transports: ['websocket'], reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100, timeout: SLOW }),
    );
    for (const s of churning) clients.push(() => ((s.io.opts.reconnection = false), closeSocket(s)));
    await Promise.all([...sockets, ...churning].map((s) => connected(s, SLOW)));
    const cutter = setInterval(() => {
        const s = churning[Math.floor(Math.random() * churning.length)];
        if (s.connected) s.io.engine.close();
    }, 50);
    const from = n;
    for (let i = 0; i < 200; i++) {
        await tick();
        await sleep(50);
    }
    clearInterval(cutter);
    await sse.waitFor((r) => r.events().filter((e) => e.payload.n > from).length >= 200, { timeoutMs: SLOW, what: '200 events' });
    for (const s of sockets) await until(() => eventsNamed(s, 'app:tick').length >= 200, '200 socket.io events', SLOW);
    assert.deepEqual(eventsNamed(sockets[1], 'app:tick').map((e) => e.data.payload.n), Array.from({ length: 200 }, (_, i) => from + i + 1));
    assert.deepEqual(sockets.map((s) => s.disconnects.length), [0, 0]);
});

test('Web Push, UnifiedPush (SERV and Web Push form) and SSF push deliver', async () => {
    const { key } = JSON.parse((await request(bridge.port, '/api/push/vapid')).body);
    const ua = userAgent();
    let r = await api('POST', '/api/push/subscribe', { subscription: { endpoint: ps.endpoint('wp'), keys: ua.keys }, vapid: key });
    assert.equal(r.status, 201, r.body);
    r = await api('POST', '/api/unifiedpush/register', { endpoint: ps.endpoint('serv') });
    assert.equal(r.status, 201, r.body);
    const ua2 = userAgent();
    r = await api('POST', '/api/unifiedpush/register', { endpoint: ps.endpoint('upwp'), keys: ua2.keys });
    assert.equal(r.status, 201, r.body);
    const recv = await w.token('t', { sub: 'receiver-1', roles: ['ssf-receiver'], ttl: 600 });
    r = await api('POST', '/ssf/t/streams', { events_requested: [TYPE], delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: rx.url('/set') } }, recv);
    assert.equal(r.status, 201, r.body);

    await pub.publish('app', 'wp', { payload: { k: 'wp-1' } });
    await pub.publish('app', 'up', { payload: { k: 'up-1' } });
    await pub.publish('app', 'sec', { payload: { user: 'u9' } });
    const posts = (p) => ps.to(`/push/${p}`).filter((q) => q.method === 'POST');
    await ps.until(() => posts('wp').length >= 1 && posts('serv').length >= 1 && posts('upwp').length >= 1, 'the pushes', SLOW);
    assert.equal(JSON.parse(ua.decrypt(posts('wp')[0].body)).payload.k, 'wp-1');
    assert.equal(JSON.parse(posts('serv')[0].body).payload.k, 'up-1');
    assert.equal(JSON.parse(ua2.decrypt(posts('upwp')[0].body)).payload.k, 'up-1');
    await rx.until(() => rx.to('/set').length >= 1, 'the SET', SLOW);
    const claims = JSON.parse(Buffer.from(rx.to('/set')[0].body.split('.')[1], 'base64url'));
    assert.equal(claims.sub_id.id, 'u9');

    r = await api('POST', '/api/push/logout');
    assert.equal(r.status, 200, r.body);
});

test('push services answering 503 (retried), 410 and 404 (dropped); SSF 503 then 202', async () => {
    const tok = await w.token('t', { sub: 'u2', sid: 's2', roles: ['reader'], ttl: 600 });
    const { key } = JSON.parse((await request(bridge.port, '/api/push/vapid')).body);
    for (const name of ['retry', 'gone']) {
        const r = await api('POST', '/api/push/subscribe', { subscription: { endpoint: ps.endpoint(name), keys: userAgent().keys }, vapid: key }, tok);
        assert.equal(r.status, 201, r.body);
    }
    for (const name of ['up-ok', 'up-gone']) {
        const r = await api('POST', '/api/unifiedpush/register', { endpoint: ps.endpoint(name) }, tok);
        assert.equal(r.status, 201, r.body);
    }
    ps.answer('/push/retry', { status: 503, headers: { 'retry-after': '1' } });
    ps.answer('/push/gone', { status: 410 });
    ps.answer('/push/up-gone', { status: 404 });
    rx.answer('/set', { status: 503 });
    const sets = rx.to('/set').length;
    await pub.publish('app', 'wp', { payload: { k: 'wp-2' } });
    await pub.publish('app', 'up', { payload: { k: 'up-2' } });
    await pub.publish('app', 'sec', { payload: { user: 'u8' } });
    const posts = (p) => ps.to(`/push/${p}`).filter((q) => q.method === 'POST');
    await ps.until(() => posts('retry').length >= 2 && posts('gone').length >= 1 && posts('up-gone').length >= 1, 'the pushes and the retry', SLOW);
    await rx.until(() => rx.to('/set').length >= sets + 2, 'the SET and its retry', SLOW);
    // the subscription and the registration the services refused for good get nothing more
    await pub.publish('app', 'wp', { payload: { k: 'wp-3' } });
    await pub.publish('app', 'up', { payload: { k: 'up-3' } });
    await ps.until(() => posts('retry').length >= 3 && posts('up-ok').length >= 2, 'the next pushes', SLOW);
    await sleep(300);
    assert.equal(posts('gone').length, 1);
    assert.equal(posts('up-gone').length, 1);
});

test('SSE resumes by Last-Event-ID; socket.io recovers after its transport is cut', async () => {
    const url = `${bridge.url}/stream/v1/streams/live?tenant=t`;
    const sse = await SseReader.open(url);
    await sse.waitNamed('mqpush:ready', { timeoutMs: SLOW });
    const s = sio(bridge, '/t?stream=live', {
        transports: ['websocket'],
        reconnection: true,
        reconnectionDelay: 1000,
        reconnectionDelayMax: 1000,
        randomizationFactor: 0,
        timeout: SLOW,
    });
    clients.push(() => closeSocket(s));
    await connected(s, SLOW);
    await tick();
    await sse.waitEvents(1, { timeoutMs: SLOW });
    await until(() => eventsNamed(s, 'app:tick').length >= 1, 'the first socket.io event', SLOW);
    const last = sse.frames.filter((f) => f.id).at(-1).id;
    sse.close();
    s.io.engine.close();
    await tick();
    await tick();
    const again = await SseReader.open(url, { headers: { 'last-event-id': last } });
    clients.push(() => again.close());
    await again.waitNamed('mqpush:ready', { timeoutMs: SLOW });
    assert.equal(again.events().length, 2);
    await until(() => s.connects.length >= 2, 'the reconnection', SLOW);
    assert.equal(s.connects[1].recovered, true);
    await until(() => eventsNamed(s, 'app:tick').length >= 3, 'the missed events', SLOW);
});

test('UnifiedPush provider: a POST reaches the distributor, which acknowledges', async () => {
    let r = await api('POST', '/api/unifiedpush/endpoints');
    assert.equal(r.status, 201, r.body);
    const endpoint = new URL(JSON.parse(r.body).endpoint).pathname;
    const dist = await SseReader.open(`${bridge.url}/api/unifiedpush/messages`, { headers: bearer(user) });
    clients.push(() => dist.close());
    r = await request(bridge.port, endpoint, { method: 'POST', headers: { 'content-length': 5 }, body: 'hello', timeoutMs: SLOW });
    assert.equal(r.status, 202, r.body);
    await dist.waitFor((d) => d.frames.some((f) => f.data), { timeoutMs: SLOW, what: 'the message' });
    const msg = JSON.parse(dist.frames.find((f) => f.data).data);
    assert.equal(Buffer.from(msg.body, 'base64').toString(), 'hello');
    r = await api('POST', '/api/unifiedpush/messages/ack', { up_to: msg.id });
    assert.ok(r.status < 300, r.body);
});

test('refusals: unknown stream (SSE, socket.io), bad MQTT token, no token for Web Push', async () => {
    assert.equal((await request(bridge.port, '/stream/v1/streams/nope?tenant=t', { timeoutMs: SLOW })).status, 404);
    const s = sio(bridge, '/t?stream=nope', { transports: ['polling'], timeout: SLOW });
    assert.match((await refused(s, SLOW)).message, /^unknown_stream/);
    closeSocket(s);
    assert.equal((await tryConnect(w.port(), { password: 'not.a.token' })).ok, false);
    const r = await request(bridge.port, '/api/push/subscribe', { method: 'POST', headers: { 'content-length': 2 }, body: '{}', timeoutMs: SLOW });
    assert.equal(r.status, 401);
});

test('SIGHUP reloads bridge and broker; delivery goes on', async () => {
    assert.equal((await bridge.reload()).ok, true);
    assert.equal((await w.broker.reload({ timeoutMs: SLOW })).ok, true);
    const sse = await SseReader.open(`${bridge.url}/stream/v1/streams/live?tenant=t`);
    clients.push(() => sse.close());
    await sse.waitNamed('mqpush:ready', { timeoutMs: SLOW });
    await tick();
    await sse.waitEvents(1, { timeoutMs: SLOW });
});

test('the bridge reconnects across a broker restart', async () => {
    const sse = await SseReader.open(`${bridge.url}/stream/v1/streams/live?tenant=t`);
    clients.push(() => sse.close());
    await sse.waitNamed('mqpush:ready', { timeoutMs: SLOW });
    await pub.end().catch(() => {});
    try {
        await w.broker.stop({ timeoutMs: SLOW });
    } catch (e) {
        brokerStops.push(e.message);
    }
    await w.broker.start({ samePort: true });
    await bridge.waitHealthy({ timeoutMs: SLOW });
    pub = await publisher(w, 't');
    await tick();
    await sse.waitEvents(1, { timeoutMs: SLOW });
});

test('SIGTERM: both exit 0, valgrind finds no error and no definite leak', async () => {
    for (const c of clients.splice(0)) c();
    await pub.end();
    pub = null;
    await sleep(500);
    bridge.proc.kill('SIGTERM');
    const timer = setTimeout(() => bridge.proc.kill('SIGKILL'), SLOW);
    await bridge.exitPromise;
    clearTimeout(timer);
    const b = findings(bridge.valgrindLog);
    try {
        await w.broker.stop({ timeoutMs: SLOW });
    } catch (e) {
        brokerStops.push(e.message);
    }
    const brokers = fs.readdirSync(w.dir).filter((f) => /^mosquitto\.\d+\.valgrind\.log$/.test(f));
    const m = brokers.map((f) => findings(path.join(w.dir, f)));
    const failed = b.errors !== 0 || bridge.exited.code !== 0 || m.some((x) => x.errors !== 0) || brokerStops.length;
    if (failed) w.keep = true;
    assert.equal(b.errors, 0, `valgrind on the bridge (log in ${w.dir}):\n${b.text.slice(-20000)}`);
    assert.equal(bridge.exited.code, 0, `bridge exit ${JSON.stringify(bridge.exited)}:\n${bridge.output.slice(-3000)}`);
    assert.equal(brokers.length, 2, 'a valgrind log for each broker run');
    for (const x of m) assert.equal(x.errors, 0, `valgrind on mosquitto (log in ${w.dir}):\n${x.text.slice(-20000)}`);
    assert.deepEqual(brokerStops, []);
});
