// The VAPID key on the real-time channels: a client of a Web Push stream learns the key when it
// connects (SSE, WebSocket, socket.io: an event mqpush:vapid-key), and the new one when the key
// rotates; clients of other streams hear nothing of it. mqpushctl rotate-vapid drives a rotation.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { Bridge, request, shutdown } from './lib/bridge.mjs';
import { MQPUSHCTL as CTL } from './lib/env.mjs';
import { closeSocket, connected, eventsNamed, sio, until } from './lib/sio.mjs';
import { SseReader } from './lib/sse.mjs';
import { ev, stream } from './lib/streams.mjs';
import { createWorld } from './lib/world.mjs';

const run = promisify(execFile);

let w;
let bridge;
let token;

before(async () => {
    w = await createWorld({
        label: 'webpush-keys',
        tenants: {
            t: {
                streams: [
                    stream('alerts', { subscriberRoles: ['reader'], events: [ev('app', 'alert')] }),
                    stream('plain', { subscriberRoles: ['reader'], events: [ev('app', 'alert')] }),
                ],
            },
        },
    });
    bridge = await new Bridge(w, {
        extra: {
            outbound: { allow: ['127.0.0.0/8'] },
            webpush: { subject: 'https://ops.mqpush.test/contact', streams: [{ tenant: 't', stream: 'alerts' }] },
        },
    }).start();
    token = await w.token('t', { sub: 'u1', roles: ['reader'], ttl: 600 });
});

after(async () => {
    await shutdown({ bridge, world: w });
});

async function currentKey() {
    const r = await request(bridge.port, '/api/push/vapid');
    assert.equal(r.status, 200);
    return JSON.parse(r.body).key;
}

const keyFrames = (r) => r.frames.filter((f) => f.event === 'mqpush:vapid-key').map((f) => JSON.parse(f.data));

test('connect, rotate with mqpushctl: every channel of the Web Push stream hears the key, others do not', async () => {
    const k1 = await currentKey();
    const sse = await SseReader.open(`${bridge.url}/stream/v1/streams/alerts`, { headers: { authorization: `Bearer ${token}` } });
    const ssePlain = await SseReader.open(`${bridge.url}/stream/v1/streams/plain`, { headers: { authorization: `Bearer ${token}` } });
    const wsGot = [];
    const ws = new WebSocket(`ws://127.0.0.1:${bridge.port}/stream/v1/streams/alerts?token=${token}`);
    ws.on('message', (m) => wsGot.push(JSON.parse(m.toString())));
    const sock = sio(bridge, '/t?stream=alerts', { auth: { token } });
    const sockPlain = sio(bridge, '/t?stream=plain', { auth: { token } });
    try {
        await connected(sock);
        await connected(sockPlain);
        await until(() => keyFrames(sse).length === 1, 'the SSE key event');
        await until(() => wsGot.some((m) => m.name === 'vapid-key'), 'the WebSocket key frame');
        await until(() => eventsNamed(sock, 'mqpush:vapid-key').length === 1, 'the socket.io key event');
        assert.deepEqual(keyFrames(sse)[0], { namespace: 'mqpush', name: 'vapid-key', stream: 'alerts', payload: { key: k1 } });
        assert.equal(wsGot.find((m) => m.name === 'vapid-key').payload.key, k1);
        assert.equal(eventsNamed(sock, 'mqpush:vapid-key')[0].data.payload.key, k1);
        // the ready frame comes first on SSE
        assert.ok(sse.frames.findIndex((f) => f.event === 'mqpush:ready') < sse.frames.findIndex((f) => f.event === 'mqpush:vapid-key'));

        const admin = await w.token('service', { sub: 'ops', roles: ['mqpush-admin'], ttl: 600 });
        const tokenFile = path.join(w.dir, 'admin.token');
        fs.writeFileSync(tokenFile, `${admin}\n`);
        const { stdout } = await run(CTL, ['rotate-vapid', '--url', bridge.url, '--token-file', tokenFile]);
        const k2 = stdout.trim();
        assert.notEqual(k2, k1);
        assert.equal(await currentKey(), k2);
        await until(() => keyFrames(sse).length === 2, 'the SSE key event after rotation');
        await until(() => wsGot.filter((m) => m.name === 'vapid-key').length === 2, 'the WebSocket frame after rotation');
        await until(() => eventsNamed(sock, 'mqpush:vapid-key').length === 2, 'the socket.io event after rotation');
        assert.equal(keyFrames(sse)[1].payload.key, k2);
        assert.equal(wsGot.filter((m) => m.name === 'vapid-key')[1].payload.key, k2);
        assert.equal(eventsNamed(sock, 'mqpush:vapid-key')[1].data.payload.key, k2);
        await sleep(200);
        assert.equal(keyFrames(ssePlain).length, 0);
        assert.equal(eventsNamed(sockPlain, 'mqpush:vapid-key').length, 0);
    } finally {
        sse.req.destroy();
        ssePlain.req.destroy();
        ws.close();
        closeSocket(sock);
        closeSocket(sockPlain);
    }
});

test('mqpushctl rotate-vapid with a token lacking mqpush-admin fails and the key stays', async () => {
    const k = await currentKey();
    const tokenFile = path.join(w.dir, 'plain.token');
    fs.writeFileSync(tokenFile, `${await w.token('service', { sub: 'x', roles: ['mqpush-bridge'], ttl: 600 })}\n`);
    await assert.rejects(run(CTL, ['rotate-vapid', '--url', bridge.url, '--token-file', tokenFile]), (e) => {
        assert.equal(e.code, 1);
        assert.match(e.stderr, /403/);
        return true;
    });
    assert.equal(await currentKey(), k);
});
