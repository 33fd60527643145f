// The mqpush-bridge daemon: command line, configuration checking, reload on SIGHUP, clean stop
// on SIGTERM, /healthz following the broker link, /metrics, the stream listing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bridge, publisher, request, shutdown } from './lib/bridge.mjs';
import { BRIDGE, EXAMPLES_DIR } from './lib/env.mjs';
import { run } from './lib/proc.mjs';
import { SseReader } from './lib/sse.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

let w;
let bridge;

before(async () => {
    w = await createWorld({
        label: 'bridge',
        tenants: {
            t: {
                streams: [
                    stream('open', { publicSubscribe: true, events: [ev('app', 'tick')] }),
                    stream('priv', { subscriberRoles: ['reader'], events: [ev('app', 'tick')] }),
                    stream('gone', { publicSubscribe: true, events: [ev('app', 'tick')] }),
                ],
            },
        },
    });
    bridge = await new Bridge(w).start();
});

after(async () => {
    await shutdown({ bridge, world: w });
});

describe('command line', () => {
    test('--version and --help', async () => {
        const v = await run(BRIDGE, ['--version']);
        assert.equal(v.code, 0);
        assert.match(v.stdout, /^mqpush-bridge \d+\.\d+\.\d+\n$/);
        const h = await run(BRIDGE, ['--help']);
        assert.equal(h.code, 0);
        assert.match(h.stdout, /--check-config/);
        const bad = await run(BRIDGE, ['--nope']);
        assert.equal(bad.code, 2);
        const none = await run(BRIDGE, []);
        assert.equal(none.code, 2);
    });

    test('--check-config accepts the running config and the shipped example', async () => {
        const r = await run(BRIDGE, ['--check-config', '-c', bridge.configFile]);
        assert.equal(r.code, 0, r.stderr);
        // The example names bridge.token and streams.json next to it: check a copy that has them.
        const dir = path.join(w.dir, 'example');
        fs.mkdirSync(dir, { recursive: true });
        fs.copyFileSync(path.join(EXAMPLES_DIR, 'bridge.json'), path.join(dir, 'bridge.json'));
        fs.copyFileSync(path.join(EXAMPLES_DIR, 'streams.json'), path.join(dir, 'streams.json'));
        fs.writeFileSync(path.join(dir, 'bridge.token'), 'x.y.z\n');
        fs.cpSync(path.join(w.dir, 'keys'), path.join(dir, 'keys'), { recursive: true });
        for (const who of ['demo', 'acme']) fs.copyFileSync(path.join(dir, 'keys', 't.jwks.json'), path.join(dir, 'keys', `${who}.jwks.json`));
        const ex = await run(BRIDGE, ['--check-config', '-c', path.join(dir, 'bridge.json')]);
        assert.equal(ex.code, 0, ex.stderr);
    });

    const broken = {
        'unknown top-level key': [{ listne: '127.0.0.1:1' }, /\$: unknown key "listne"/],
        'port out of range': [{ listen: '127.0.0.1:70000' }, /\$\.listen: port/],
        'host not an address': [{ listen: 'example.com:80' }, /\$\.listen: host/],
        'limit of the wrong type': [{ limits: { max_connections: '10' } }, /\$\.limits\.max_connections: must be an integer/],
        'unknown limit': [{ limits: { max_conections: 10 } }, /\$\.limits: unknown key "max_conections"/],
        'bad CIDR': [{ outbound: { allow: ['10.0.0.0/33'] } }, /\$\.outbound\.allow\[0\]/],
        'route on a reserved path': [{ sse: { routes: [{ path: '/healthz', tenant: 't', stream: 'open' }] } }, /\$\.sse\.routes\[0\]: path/],
        'both token and token_file': [{ broker: { token: 'a', token_file: 'b' } }, /\$\.broker: give token or token_file, not both/],
        'no streams file': [{ streams_file: undefined }, /\$\.streams_file: required/],
    };
    for (const [name, [change, re]] of Object.entries(broken)) {
        test(`--check-config refuses ${name}, naming the JSON path`, async () => {
            const cfg = JSON.parse(fs.readFileSync(bridge.configFile, 'utf8'));
            for (const [k, v] of Object.entries(change)) {
                if (v === undefined) delete cfg[k];
                else if (k === 'broker') cfg.broker = { ...cfg.broker, ...v };
                else cfg[k] = v;
            }
            const file = path.join(w.dir, `broken-${name.replace(/\W+/g, '-')}.json`);
            fs.writeFileSync(file, JSON.stringify(cfg));
            const r = await run(BRIDGE, ['--check-config', '-c', file]);
            assert.equal(r.code, 1);
            assert.match(r.stderr, re);
        });
    }

    test('--check-config refuses a broken streams file and malformed JSON', async () => {
        const bad = path.join(w.dir, 'bad-streams.json');
        fs.writeFileSync(bad, '{"tenants": {"t": {"issuer": 1}}}');
        const cfg = JSON.parse(fs.readFileSync(bridge.configFile, 'utf8'));
        cfg.streams_file = 'bad-streams.json';
        const file = path.join(w.dir, 'with-bad-streams.json');
        fs.writeFileSync(file, JSON.stringify(cfg));
        const r = await run(BRIDGE, ['--check-config', '-c', file]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /tenants/);
        const junk = path.join(w.dir, 'junk.json');
        fs.writeFileSync(junk, '{"listen": ');
        const j = await run(BRIDGE, ['--check-config', '-c', junk]);
        assert.equal(j.code, 1);
        assert.match(j.stderr, /not valid JSON/);
    });
});

describe('service endpoints', () => {
    test('/stream/v1/streams lists what the caller may read', async () => {
        const anon = await request(bridge.port, '/stream/v1/streams?tenant=t');
        assert.equal(anon.status, 200);
        const a = JSON.parse(anon.body);
        assert.equal(a.tenant, 't');
        assert.deepEqual(a.streams.map((s) => s.id).sort(), ['gone', 'open']);
        const s0 = a.streams.find((s) => s.id === 'open');
        assert.deepEqual(s0.events, [{ namespace: 'app', name: 'tick' }]);
        assert.equal(s0.publicSubscribe, true);
        const token = await w.token('t', { roles: ['reader'] });
        const withRole = JSON.parse((await request(bridge.port, '/stream/v1/streams', { headers: { authorization: `Bearer ${token}` } })).body);
        assert.deepEqual(withRole.streams.map((s) => s.id).sort(), ['gone', 'open', 'priv']);
        assert.equal((await request(bridge.port, '/stream/v1/streams')).status, 400);
        assert.equal((await request(bridge.port, '/stream/v1/streams?token=junk')).status, 401);
    });

    test('listens on the configured address only, not on every interface', () => {
        // /proc/net/tcp{,6}: "local_address" is hex IP:port; state 0A is LISTEN.
        const listening = [];
        for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
            for (const line of fs.readFileSync(f, 'utf8').split('\n').slice(1)) {
                const cols = line.trim().split(/\s+/);
                if (cols.length < 4 || cols[3] !== '0A') continue;
                const [addr, port] = cols[1].split(':');
                if (parseInt(port, 16) === bridge.port) listening.push(`${f.endsWith('6') ? 'tcp6' : 'tcp'} ${addr}`);
            }
        }
        // 127.0.0.1 in /proc's byte order
        assert.deepEqual(listening, ['tcp 0100007F']);
    });

    test('/metrics is Prometheus text with the documented series', async () => {
        const r = await request(bridge.port, '/metrics');
        assert.equal(r.status, 200);
        assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
        for (const name of [
            'mqpush_bridge_events_in_total',
            'mqpush_bridge_connections',
            'mqpush_bridge_deliveries_total',
            'mqpush_bridge_slow_clients_dropped_total',
            'mqpush_bridge_queue_bytes',
            'mqpush_bridge_broker_up',
        ]) {
            assert.match(r.body, new RegExp(`^# TYPE ${name} (counter|gauge)$`, 'm'), name);
        }
        const m = await bridge.metrics();
        assert.equal(m.mqpush_bridge_broker_up, 1);
        assert.ok(m.mqpush_bridge_broker_connects_total >= 1);
    });

    test('the demo page is served at /', async () => {
        const r = await request(bridge.port, '/');
        assert.equal(r.status, 200);
        assert.match(r.headers['content-type'], /^text\/html/);
        assert.match(r.body, /new EventSource/);
    });
});

describe('reload and broker link', () => {
    test('SIGHUP: a broken streams file is refused and the old one stays', async () => {
        const good = fs.readFileSync(w.streamsFile, 'utf8');
        await w.writeRaw('{"tenants": ');
        const r = await bridge.reload();
        assert.equal(r.ok, false);
        assert.equal((await request(bridge.port, '/stream/v1/streams?tenant=t')).status, 200);
        await w.writeRaw(good);
        assert.equal((await bridge.reload()).ok, true);
    });

    test('SIGHUP: streams removed or closed to a client end its stream with mqpush:reconnect', async () => {
        const reader = await w.token('t', { roles: ['reader'] });
        const onGone = await SseReader.open(`${bridge.url}/stream/v1/streams/gone?tenant=t`);
        const onPriv = await SseReader.open(`${bridge.url}/stream/v1/streams/priv`, { headers: { authorization: `Bearer ${reader}` } });
        const onOpen = await SseReader.open(`${bridge.url}/stream/v1/streams/open?tenant=t`);
        await Promise.all([onGone, onPriv, onOpen].map((r) => r.waitNamed('mqpush:ready')));
        const doc = structuredClone(w.doc);
        delete doc.tenants.t.streams.gone;
        doc.tenants.t.streams.priv.subscriberRoles = ['someone-else'];
        await w.rewrite(doc);
        assert.equal((await bridge.reload()).ok, true);
        await onGone.waitNamed('mqpush:reconnect');
        await onPriv.waitNamed('mqpush:reconnect');
        assert.deepEqual(JSON.parse(onGone.named('mqpush:reconnect')[0].data), { reason: 'stream-removed' });
        assert.deepEqual(JSON.parse(onPriv.named('mqpush:reconnect')[0].data), { reason: 'access-revoked' });
        await onGone.waitEnd();
        await onPriv.waitEnd();
        // The others are untouched and keep receiving.
        const pub = await publisher(w, 't');
        await pub.publish('app', 'tick', { payload: { after: 'reload' } });
        await onOpen.waitEvents(1);
        await pub.end();
        onOpen.close();
        const gone = await request(bridge.port, '/stream/v1/streams/gone?tenant=t', { headers: { accept: 'text/event-stream' } });
        assert.equal(gone.status, 404);
        await w.rewrite(w.doc);
        assert.equal((await bridge.reload()).ok, true);
    });

    test('/healthz is 503 while the broker is down and 200 once the link is back', async () => {
        assert.equal((await request(bridge.port, '/healthz')).status, 200);
        await w.broker.stop();
        const deadline = Date.now() + 10000;
        let r;
        do {
            await sleep(50);
            r = await request(bridge.port, '/healthz');
        } while (r.status === 200 && Date.now() < deadline);
        assert.equal(r.status, 503);
        assert.deepEqual(JSON.parse(r.body), { status: 'unavailable', broker: 'down', store: 'ok' });
        assert.equal((await bridge.metrics()).mqpush_bridge_broker_up, 0);
        await w.broker.start({ samePort: true });
        await bridge.waitHealthy({ timeoutMs: 40000 });
        assert.ok((await bridge.metrics()).mqpush_bridge_broker_connects_total >= 2);
    });

    test('SIGTERM stops with exit status 0 and ends open streams', async () => {
        const second = await new Bridge(w, { name: 'second' }).start();
        const r = await SseReader.open(`${second.url}/stream/v1/streams/open?tenant=t`);
        await r.waitNamed('mqpush:ready');
        await second.stop(); // asserts exit 0 and no sanitizer report
        await r.waitEnd({ timeoutMs: 5000 });
        assert.match(second.output, /stopped/);
    });
});

