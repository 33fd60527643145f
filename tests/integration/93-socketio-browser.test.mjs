// socket.io in a real browser: headless Debian Chromium (playwright-core) loads the
// socket.io-client 4.8.1 browser bundle on a page the bridge serves and connects with default
// transports: long polling first, then the upgrade to WebSocket, which a browser makes without
// any header, so a token given as a header must hold for the whole Engine.IO session. Also the
// bundle served by the bridge itself (socketio.client_script), and a page of another origin
// allowed by socketio.cors_origins, with credentials.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { Bridge, publisher, request, shutdown } from './lib/bridge.mjs';
import { freePort } from './lib/net.mjs';
import { SseReader } from './lib/sse.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const CHROMIUM = process.env.MQP_CHROMIUM || '/usr/bin/chromium';
const require = createRequire(import.meta.url);
const BUNDLE = path.join(path.dirname(require.resolve('socket.io-client/package.json')), 'dist', 'socket.io.min.js');

let w;
let bridge;
let pub;
let browser;
let token;
let keeper;
let otherOrigin; // a second web server: a page of another origin
let otherServer;
let run = 0;

before(async () => {
    // scripts/deps.sh installs Debian's chromium; without it this file fails rather than skips.
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
    const otherPort = await freePort();
    otherOrigin = `http://localhost:${otherPort}`;
    otherServer = http.createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><title>another origin</title><p>elsewhere</p>');
    });
    await new Promise((res) => otherServer.listen(otherPort, '127.0.0.1', res));
    w = await createWorld({
        label: 'socketio-browser',
        tenants: { t: { streams: [stream('s', { subscriberRoles: ['reader'], events: [ev('app', 'tick')] })] } },
    });
    bridge = await new Bridge(w, { extra: { socketio: { client_script: BUNDLE, cors_origins: [otherOrigin] } } }).start();
    pub = await publisher(w, 't');
    token = await w.token('t', { roles: ['reader'], ttl: 600 });
    keeper = await SseReader.open(`${bridge.url}/stream/v1/streams/s`, { headers: { authorization: `Bearer ${token}` } });
    await keeper.waitNamed('mqpush:ready');
    browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
});

after(async () => {
    keeper?.close();
    await browser?.close().catch(() => {});
    otherServer?.close();
    await shutdown({ pub, bridge, world: w });
});

/** In the page: connect with io(url, opts) and record what happens in window.sio. */
async function connectInPage(page, url, opts) {
    await page.evaluate(
        ([u, o]) => {
            const seen = { events: [], connects: [], errors: [], disconnects: [], upgrades: [], upgradeErrors: [], first: null };
            window.sio = seen;
            // A path alone means the page's own origin: io(location.origin + path).
            const socket = io(u.startsWith('/') ? location.origin + u : u, o);
            window.socket = socket;
            seen.first = socket.io.engine.transport.name;
            socket.io.engine.on('upgrade', (t) => seen.upgrades.push(t.name));
            socket.io.engine.on('upgradeError', (e) => seen.upgradeErrors.push(String(e?.message ?? e)));
            socket.on('connect', () => seen.connects.push({ id: socket.id, transport: socket.io.engine.transport.name }));
            socket.on('connect_error', (e) => seen.errors.push({ message: e.message, data: e.data ?? null }));
            socket.on('disconnect', (r) => seen.disconnects.push(r));
            socket.onAny((event, data, offset) =>
                seen.events.push({ event, data, offset, transport: socket.io.engine.transport.name }),
            );
        },
        [url, opts],
    );
}

const seen = (page) =>
    page.evaluate(() => ({
        ...window.sio,
        transport: window.socket.io.engine.transport.name,
        // true while the client waits for the polling transport to pause before sending 5
        upgrading: window.socket.io.engine.upgrading,
    }));

async function until(page, pred, what, timeoutMs = 15000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const s = await seen(page);
        if (pred(s)) return s;
        if (s.errors.length) throw new Error(`browser: connect_error while waiting for ${what}: ${JSON.stringify(s.errors)}`);
        if (Date.now() > deadline) throw new Error(`browser: no ${what} within ${timeoutMs} ms: ${JSON.stringify(s).slice(0, 2000)}`);
        await sleep(50);
    }
}

/** Connected, upgraded to WebSocket, then events published after the upgrade arrive over it. */
async function upgradesAndDelivers(page) {
    let s = await until(page, (x) => x.connects.length === 1, 'connect');
    assert.equal(s.first, 'polling', 'default transports start with long polling');
    s = await until(page, (x) => x.transport === 'websocket', 'the upgrade to websocket');
    assert.deepEqual(s.upgrades, ['websocket']);
    const tag = `r${++run}`;
    const sse = await SseReader.open(`${bridge.url}/stream/v1/streams/s`, { headers: { authorization: `Bearer ${token}` } });
    try {
        await sse.waitNamed('mqpush:ready');
        for (let i = 0; i < 3; i++) await pub.publish('app', 'tick', { payload: { run: tag, n: i } });
        const mine = (x) => x.events.filter((e) => e.data?.payload?.run === tag);
        s = await until(page, (x) => mine(x).length === 3, '3 events after the upgrade');
        await sse.waitEvents(3);
        const got = mine(s);
        assert.deepEqual(got.map((e) => e.data), sse.events().filter((e) => e.payload.run === tag), 'what SSE delivers');
        for (const e of got) {
            assert.equal(e.event, 'app:tick');
            assert.equal(e.offset, e.data.id);
            assert.equal(e.transport, 'websocket');
        }
        assert.deepEqual(s.disconnects, []);
    } finally {
        sse.close();
    }
}

describe('socket.io-client 4.8.1 in Chromium', () => {
    test('on the page the bridge serves, auth.token, default transports: upgraded, events arrive', async () => {
        const page = await browser.newPage();
        try {
            await page.goto(`${bridge.url}/`);
            await page.addScriptTag({ path: BUNDLE });
            await connectInPage(page, '/t?stream=s', { auth: { token } });
            await upgradesAndDelivers(page);
        } finally {
            await page.close();
        }
    });

    test('a token in extraHeaders (sent on polling only) holds after the upgrade to WebSocket', async () => {
        const page = await browser.newPage();
        try {
            await page.goto(`${bridge.url}/`);
            await page.addScriptTag({ path: BUNDLE });
            await connectInPage(page, '/t?stream=s', {
                withCredentials: true,
                extraHeaders: { Authorization: `Bearer ${token}` },
            });
            await upgradesAndDelivers(page);
        } finally {
            await page.close();
        }
    });

    test('the bridge serves the bundle at /socket.io/socket.io.min.js (socketio.client_script)', async () => {
        const r = await request(bridge.port, '/socket.io/socket.io.min.js');
        assert.equal(r.status, 200);
        assert.match(r.headers['content-type'] ?? '', /javascript/);
        assert.equal(r.body, fs.readFileSync(BUNDLE, 'utf8'));
        const page = await browser.newPage();
        try {
            await page.goto(`${bridge.url}/`);
            await page.addScriptTag({ url: '/socket.io/socket.io.min.js' });
            assert.equal(await page.evaluate(() => typeof io), 'function');
            await connectInPage(page, '/t?stream=s', { auth: { token } });
            await upgradesAndDelivers(page);
        } finally {
            await page.close();
        }
    });

    test('a page of an origin in socketio.cors_origins connects with credentials and upgrades', async () => {
        const page = await browser.newPage();
        try {
            await page.goto(`${otherOrigin}/`);
            await page.addScriptTag({ path: BUNDLE });
            assert.notEqual(await page.evaluate(() => location.origin), new URL(bridge.url).origin);
            await connectInPage(page, `${bridge.url}/t?stream=s`, { withCredentials: true, auth: { token } });
            await upgradesAndDelivers(page);
        } finally {
            await page.close();
        }
    });
});
