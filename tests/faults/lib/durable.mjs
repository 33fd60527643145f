// What the durable-delivery fault tests share: one stream ("feed") that every channel of the
// bridge carries at once, its receivers on loopback (a push service for Web Push and
// UnifiedPush, an RFC 8935 SET receiver, an SSE reader and a socket.io client that both
// reconnect by themselves), a paced publisher, and the tally of what each channel got.
// Every event carries payload.seq; a channel got an event when some request or frame carried
// that seq, and a repeat must carry the same event id (Web Push, UnifiedPush, SSE, socket.io)
// or jti (SET): the bridge may deliver twice after a crash, never as another event.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from '../../integration/lib/bridge.mjs';
import { connect, end } from '../../integration/lib/mqtt.mjs';
import { PushService, userAgent } from '../../integration/lib/pushservice.mjs';
import { setReceiver } from '../../integration/lib/setreceiver.mjs';
import { sio } from '../../integration/lib/sio.mjs';
import { ev, stream } from '../../integration/lib/streams.mjs';

export const TENANT = 't';
export const STREAM = 'feed';
// The SET type of an event the transmitter has no mapping for (docs/ssf.md).
export const TICK_TYPE = `urn:mqpush:${TENANT}:event:app:tick`;
export const DURABLE = ['webpush', 'unifiedpush', 'set'];
export const LIVE = ['sse', 'socket.io'];

/** The world's tenant: one stream of app:tick for readers. */
export const tenants = () => ({
    [TENANT]: { streams: [stream(STREAM, { subscriberRoles: ['reader'], events: [ev('app', 'tick')] })] },
});

/**
 * Mosquitto lines for the bridge's persistent session: room for what is queued while the
 * bridge is away (the default of 1000 queued messages would drop events at these rates).
 */
export const QUEUE_CONF = ['max_queued_messages 1000000', 'max_inflight_messages 0'];

/** bridge.json sections that put "feed" on Web Push, UnifiedPush and the SSF transmitter. */
export function channelConfig({ retryMaxMs = 400 } = {}) {
    const feed = [{ tenant: TENANT, stream: STREAM, default: true }];
    const retry = { retry_min_ms: 100, retry_max_ms: retryMaxMs };
    return {
        outbound: { allow: ['127.0.0.0/8'] },
        webpush: { subject: 'mailto:ops@mqpush.test', ttl_s: 3600, ...retry, streams: feed },
        unifiedpush: { ...retry, streams: feed },
        ssf: { transmitter: { streams: [{ tenant: TENANT, stream: STREAM }], delivery: { ...retry, retry_s: 3600 } } },
        socketio: { recovery_window_s: 120 },
    };
}

function api(bridge, method, path, token, body) {
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers = { authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(text) };
    if (text) headers['content-type'] = 'application/json';
    return request(bridge.port, path, { method, headers, body: text });
}

async function must(what, p, status) {
    const r = await p;
    if (r.status !== status) throw new Error(`${what}: ${r.status} ${r.body}`);
    return r.body ? JSON.parse(r.body) : null;
}

const jwtClaims = (jws) => JSON.parse(Buffer.from(jws.split('.')[1], 'base64url').toString('utf8'));

/**
 * The durable receivers of one bridge, registered through its API (kept in its store):
 * a Web Push subscription and a UnifiedPush endpoint on one push service, an SSF push
 * stream to a SET receiver. Returns {ps, rx, reader, received(channel), close()}.
 */
export async function durableReceivers(world, bridge) {
    const ps = await new PushService().start();
    const rx = await setReceiver();
    const reader = await world.token(TENANT, { sub: 'dora', sid: 'dora-s', roles: ['reader'], ttl: 3600 });
    const recv = await world.token(TENANT, { sub: 'receiver-1', roles: ['ssf-receiver'], ttl: 3600 });
    const ua = userAgent();
    const { key } = await must('VAPID key', request(bridge.port, '/api/push/vapid'), 200);
    await must(
        'Web Push subscription',
        api(bridge, 'POST', '/api/push/subscribe', reader, {
            subscription: { endpoint: ps.endpoint('wp'), keys: ua.keys },
            vapid: key,
        }),
        201,
    );
    await must('UnifiedPush registration', api(bridge, 'POST', '/api/unifiedpush/register', reader, { endpoint: ps.endpoint('up') }), 201);
    const ssf = await must(
        'SSF stream',
        api(bridge, 'POST', `/ssf/${TENANT}/streams`, recv, {
            events_requested: [TICK_TYPE],
            delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: rx.url('/set') },
        }),
        201,
    );
    // Requests turned into {seq, id} once each (Web Push bodies are decrypted once).
    const seen = { webpush: [], unifiedpush: [], set: [] };
    const done = { webpush: 0, unifiedpush: 0, set: 0 };
    const sources = {
        webpush: () => ps.to('/push/wp').filter((r) => r.method === 'POST'),
        unifiedpush: () => ps.to('/push/up').filter((r) => r.method === 'POST'),
        set: () => rx.to('/set'),
    };
    const decode = {
        webpush: (r) => {
            const e = JSON.parse(ua.decrypt(r.body).toString('utf8'));
            return { seq: e.payload?.seq, id: e.id };
        },
        unifiedpush: (r) => {
            const e = JSON.parse(r.body.toString('utf8'));
            return { seq: e.payload?.seq, id: e.id };
        },
        set: (r) => {
            const c = jwtClaims(r.body);
            return { seq: c.events?.[TICK_TYPE]?.seq, id: c.jti };
        },
    };
    return {
        ps,
        rx,
        reader,
        ssf,
        /** [{seq, id}] of every delivery on a durable channel so far. */
        received(channel) {
            const all = sources[channel]();
            for (; done[channel] < all.length; done[channel]++) seen[channel].push(decode[channel](all[done[channel]]));
            return seen[channel];
        },
        async close() {
            await ps.close().catch(() => {});
            await rx.close().catch(() => {});
        },
    };
}

/**
 * An SSE reader of "feed" that comes back by itself after the connection ends (as EventSource
 * does: after retryMs, with Last-Event-ID). got: [{seq, id}]; opens: connections made;
 * resets: mqpush:reset frames (the cursor was not in the restarted bridge's buffer).
 */
export function sseFollower(bridge, token, { retryMs = 200 } = {}) {
    const f = { got: [], opens: 0, resets: 0, lastId: null, stopped: false, req: null };
    const once = () =>
        new Promise((resolve) => {
            const headers = { accept: 'text/event-stream', authorization: `Bearer ${token}` };
            if (f.lastId) headers['last-event-id'] = f.lastId;
            const req = http.request(`${bridge.url}/stream/v1/streams/${STREAM}`, { headers }, (res) => {
                if (res.statusCode !== 200) {
                    res.resume();
                    res.on('end', resolve);
                    return;
                }
                f.opens++;
                let buf = '';
                let cur = {};
                res.setEncoding('utf8');
                res.on('data', (d) => {
                    buf += d;
                    let nl;
                    while ((nl = buf.indexOf('\n')) >= 0) {
                        const line = buf.slice(0, nl);
                        buf = buf.slice(nl + 1);
                        if (line === '') {
                            if (cur.id) f.lastId = cur.id;
                            if (cur.event === 'mqpush:reset') f.resets++;
                            if (cur.event === undefined && cur.data !== undefined) {
                                const e = JSON.parse(cur.data);
                                f.got.push({ seq: e.payload?.seq, id: e.id });
                            }
                            cur = {};
                        } else if (!line.startsWith(':')) {
                            const i = line.indexOf(':');
                            const k = i < 0 ? line : line.slice(0, i);
                            const v = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
                            cur[k] = k === 'data' && cur.data !== undefined ? `${cur.data}\n${v}` : v;
                        }
                    }
                });
                res.on('close', resolve);
                res.on('error', resolve);
            });
            req.on('error', resolve);
            f.req = req;
            req.end();
        });
    f.loop = (async () => {
        while (!f.stopped) {
            await once();
            if (!f.stopped) await sleep(retryMs);
        }
    })();
    f.connected = () => f.req && !f.req.destroyed && f.req.res && !f.req.res.complete && !f.req.res.destroyed;
    f.stop = async () => {
        f.stopped = true;
        f.req?.destroy();
        await f.loop;
    };
    return f;
}

/**
 * A socket.io client of "feed" that reconnects by itself (socket.io-client's own policy, with
 * connection state recovery when the bridge still knows the session). got: [{seq, id}].
 */
export function sioFollower(bridge, token) {
    const s = sio(bridge, `/${TENANT}?stream=${STREAM}`, {
        auth: { token },
        reconnection: true,
        reconnectionDelay: 200,
        reconnectionDelayMax: 1000,
        transports: ['websocket'],
    });
    return {
        socket: s,
        get got() {
            return s.got.filter((g) => g.event === 'app:tick').map((g) => ({ seq: g.data?.payload?.seq, id: g.data?.id }));
        },
        get connects() {
            return s.connects;
        },
        stop() {
            s.io.reconnection(false);
            s.disconnect();
            s.io.engine?.close();
        },
    };
}

/**
 * A publisher of app:tick events at a steady rate, QoS 1, one at a time. published: the seqs
 * the broker acknowledged (PUBACK); unacked: those sent without an acknowledgement (the broker
 * went away first); mids: packet identifier -> seq of the acknowledged ones (as the broker's log
 * names them); ackAt: seq -> when its PUBACK came. After a lost connection it connects again by itself.
 */
export function pacedPublisher(world, { rate, id = `pub-${process.pid}` }) {
    const p = { published: [], unacked: new Set(), mids: new Map(), ackAt: new Map(), client: null, running: true, next: 1, errors: 0, id };
    const topic = `${TENANT}/events/app/tick`;
    let token;
    const connectOnce = async () => {
        token ??= await world.token(TENANT, { roles: ['mqpush-publisher'], ttl: 3600 });
        p.client = await connect(world.port(), { id, username: 'pub', password: token, timeoutMs: 3000 });
    };
    p.send = async (seq) => {
        p.unacked.add(seq);
        // mqtt.js never answers a PUBLISH whose connection went away: give up after a while
        let timer;
        const late = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no PUBACK')), 3000)));
        const sent = new Promise((resolve, reject) =>
            p.client.publish(topic, JSON.stringify({ payload: { seq } }), { qos: 1 }, (err, pkt) => (err ? reject(err) : resolve(pkt))),
        );
        const pkt = await Promise.race([sent, late]).finally(() => clearTimeout(timer));
        p.unacked.delete(seq);
        p.published.push(seq);
        p.mids.set(pkt.messageId, seq);
        p.ackAt.set(seq, Date.now());
    };
    p.loop = (async () => {
        const t0 = Date.now();
        let sent = 0;
        while (p.running) {
            if (!p.client || p.client.closed) {
                p.client?.end(true);
                await connectOnce().catch(() => sleep(200));
                continue;
            }
            const due = Math.floor(((Date.now() - t0) * rate) / 1000);
            if (sent >= due) {
                await sleep(5);
                continue;
            }
            const seq = p.next++;
            sent++;
            await p.send(seq).catch(() => {
                p.errors++;
            });
        }
    })();
    p.stop = async () => {
        p.running = false;
        await p.loop;
        await end(p.client).catch(() => {});
    };
    return p;
}

/**
 * What one channel got of the events published: {channel, published, unique, duplicates,
 * lost, strays, idConflicts}. strays: seqs not in published (e.g. sent without a PUBACK);
 * idConflicts: seqs delivered under more than one id (must never happen).
 */
export function tally(channel, published, got) {
    const ids = new Map();
    for (const { seq, id } of got) {
        if (!ids.has(seq)) ids.set(seq, new Set());
        ids.get(seq).add(id);
    }
    const want = new Set(published);
    let unique = 0;
    for (const seq of want) if (ids.has(seq)) unique++;
    return {
        channel,
        published: want.size,
        unique,
        duplicates: got.filter((g) => want.has(g.seq)).length - unique,
        lost: want.size - unique,
        missing: [...want].filter((s) => !ids.has(s)),
        strays: [...ids.keys()].filter((s) => !want.has(s)).length,
        idConflicts: [...ids.entries()].filter(([, s]) => s.size > 1).map(([seq, s]) => `${seq}: ${[...s].join(' ')}`),
    };
}

/** The tally rows as a fixed-width table. */
export function table(rows) {
    const cols = ['channel', 'published', 'delivered unique', 'duplicates', 'lost'];
    const cells = rows.map((r) => [r.channel, r.published, r.unique, r.duplicates, r.lost].map(String));
    const w = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
    const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
    return [line(cols), w.map((n) => '-'.repeat(n)).join('  '), ...cells.map(line)].join('\n');
}

/** Wait until every published seq reached every durable channel; resolves the ms it took. */
export async function drained(recv, published, timeoutMs) {
    const t0 = Date.now();
    const want = new Set(published);
    for (;;) {
        const missing = DURABLE.map((c) => {
            const got = new Set(recv.received(c).map((g) => g.seq));
            return [...want].filter((s) => !got.has(s)).length;
        });
        if (missing.every((n) => n === 0)) return Date.now() - t0;
        if (Date.now() - t0 > timeoutMs) return -1;
        await sleep(250);
    }
}
