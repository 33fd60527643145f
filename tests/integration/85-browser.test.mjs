// A real browser: headless Debian Chromium driven by playwright-core opens
// new EventSource(url + '?token=...') on a page the bridge serves. Events arrive in order with
// their ids; when the bridge ends the stream, the browser reconnects by itself with
// Last-Event-ID and gets exactly the events it missed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { Bridge, publisher, shutdown } from './lib/bridge.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const CHROMIUM = process.env.MQP_CHROMIUM || '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
// The browser waits this long before reconnecting: time enough to publish while it is away.
const RETRY_MS = 3000;

let w;
let bridge;
let pub;
let browser;
let page;
let token;

before(async () => {
    // scripts/deps.sh installs Debian's chromium; without it this file fails rather than skips.
    if (!haveChromium) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
    w = await createWorld({
        label: 'browser',
        tenants: { t: { streams: [stream('s', { subscriberRoles: ['reader'], events: [ev('app', 'tick')] })] } },
    });
    bridge = await new Bridge(w, { sse: { retry_ms: RETRY_MS } }).start();
    pub = await publisher(w, 't');
    token = await w.token('t', { roles: ['reader'], ttl: 600 });
    browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage();
    await page.goto(`${bridge.url}/`);
});

after(async () => {
    await browser?.close().catch(() => {});
    await shutdown({ pub, bridge, world: w });
});

/** Events and control frames the page's EventSource has seen so far. */
const seen = () => page.evaluate(() => window.seen);

async function until(pred, what, timeoutMs = 15000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const s = await seen();
        if (pred(s)) return s;
        if (Date.now() > deadline) throw new Error(`browser: no ${what} within ${timeoutMs} ms: ${JSON.stringify(s).slice(0, 2000)}`);
        await sleep(50);
    }
}

describe('EventSource in Chromium', () => {
    test('events arrive in order with their ids; a reconnect resumes with Last-Event-ID', async () => {
        await page.evaluate((url) => {
            window.seen = { events: [], ready: [], reconnects: 0, opens: 0 };
            const es = new EventSource(url);
            window.es = es;
            es.onopen = () => window.seen.opens++;
            es.onmessage = (m) => window.seen.events.push({ lastEventId: m.lastEventId, data: JSON.parse(m.data) });
            es.addEventListener('mqpush:ready', (m) => window.seen.ready.push(JSON.parse(m.data)));
            es.addEventListener('mqpush:reconnect', () => window.seen.reconnects++);
        }, `/stream/v1/streams/s?token=${token}`);
        await until((s) => s.ready.length === 1, 'mqpush:ready');
        for (let i = 0; i < 10; i++) await pub.publish('app', 'tick', { payload: { n: i } });
        let s = await until((x) => x.events.length === 10, '10 events');
        assert.deepEqual(s.events.map((e) => e.data.payload.n), [...Array(10).keys()]);
        for (const e of s.events) assert.equal(e.lastEventId, e.data.id);

        // Make the bridge end the stream: close it to readers for a moment (the browser is told
        // mqpush:reconnect and waits retry: ms), open it again, and publish while the browser
        // is away. It must come back by itself and get exactly what it missed.
        const doc = structuredClone(w.doc);
        doc.tenants.t.streams.s.subscriberRoles = ['nobody'];
        await w.rewrite(doc);
        assert.equal((await bridge.reload()).ok, true);
        await until((x) => x.reconnects === 1, 'mqpush:reconnect');
        const away = Date.now();
        await w.rewrite(w.doc);
        assert.equal((await bridge.reload()).ok, true);
        for (let i = 10; i < 15; i++) await pub.publish('app', 'tick', { payload: { n: i } });
        assert.ok(Date.now() - away < RETRY_MS, 'published before the browser came back');
        s = await until((x) => x.events.length === 15 && x.ready.length >= 2, 'the missed events after reconnect', 30000);
        assert.deepEqual(s.events.map((e) => e.data.payload.n), [...Array(15).keys()], 'exactly the missed ones, once');
        assert.ok(s.opens >= 2, 'the browser reconnected');
        const replayReady = s.ready.find((r) => r.replayed > 0);
        assert.ok(replayReady, JSON.stringify(s.ready));
        assert.equal(replayReady.replayed, 5);
        await pub.publish('app', 'tick', { payload: { n: 15 } });
        s = await until((x) => x.events.length === 16, 'the live tail');
        assert.equal(s.events[15].data.payload.n, 15);
        await page.evaluate(() => window.es.close());
    });
});
