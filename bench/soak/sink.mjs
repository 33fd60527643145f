// The soak's push side (bench/soak/run.sh), one process:
//   node sink.mjs --bridge P --port Q --user-token T --rx-token R --set-type URI
//        --webpush N --unifiedpush N --ssf N --endpoints N --up-rate R
// One HTTP server on 127.0.0.1:Q plays three receivers the bridge pushes to:
//   /wp/<i>   a Web Push service with N subscriptions made through /api/push/subscribe: every
//             body is decrypted (npm http_ece, RFC 8291) and counted, every 100th VAPID JWT
//             verified (npm jose);
//   /up/<i>   a UnifiedPush provider with N registrations (SERV 1.0.1: discovery GET, then the
//             stream event JSON as body);
//   /set/<i>  N RFC 8935 SET receivers, one per SSF push stream made through the bridge's
//             stream management API; every 10th SET is verified with jose against the bridge's
//             published JWKS.
// It is also the application server and distributor of the bridge as UnifiedPush provider:
// N endpoints, POSTs at R messages/s round robin between SIGUSR1 and SIGUSR2, one distributor
// on GET /api/unifiedpush/messages (SSE) acknowledging every 200 ms.
// Prints a ready line once everything is registered, and its result line on SIGTERM.
import http from 'node:http';
import { userAgent, verifyVapid } from '../../tests/integration/lib/pushservice.mjs';
import { setVerifier } from '../../tests/integration/lib/setreceiver.mjs';
import { Report, arg, controls, fail, num, nowNs, ready, sleep } from './lib.mjs';

const bridgePort = num('bridge', 0);
const port = num('port', 0);
const userToken = arg('user-token');
const rxToken = arg('rx-token');
const setType = arg('set-type');
const origin = `http://127.0.0.1:${port}`;
const report = new Report('sink');
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function call(method, path, { token = userToken, body, headers = {} } = {}) {
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const h = { ...headers, authorization: `Bearer ${token}` };
    if (text !== undefined) {
        h['content-type'] ??= 'application/json';
        h['content-length'] = Buffer.byteLength(text);
    }
    return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: bridgePort, method, path, headers: h, agent }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
        });
        req.setTimeout(15000, () => req.destroy(new Error(`${method} ${path}: no answer`)));
        req.on('error', reject);
        req.end(text);
    });
}

async function must(status, method, path, opts) {
    const r = await call(method, path, opts);
    if (r.status !== status) throw new Error(`${method} ${path}: ${r.status} ${r.body}`);
    return r.body ? JSON.parse(r.body) : null;
}

// ---- the receivers ---------------------------------------------------------------------------

const wp = []; // {ua, tally}
const up = []; // tally
const sets = []; // {tally, aud}
let verifier;
let posts = 0;

function onWebPush(i, req, body, at) {
    const s = wp[i];
    if (!s) return report.error('webpush', 'unknown subscription');
    let ev;
    try {
        ev = JSON.parse(s.ua.decrypt(body).toString('utf8'));
    } catch (e) {
        return report.error('webpush', `cannot decrypt: ${e.message}`);
    }
    report.event(s.tally, ev, at);
    if (++posts % 100 === 0)
        verifyVapid(req.headers.authorization, origin).then(
            () => report.count('webpush', 'vapid_verified'),
            (e) => report.error('webpush', `VAPID: ${e.message}`),
        );
}

function onUnifiedPush(i, body, at) {
    if (!up[i]) return report.error('unifiedpush', 'unknown registration');
    try {
        report.event(up[i], JSON.parse(body.toString('utf8')), at);
    } catch {
        report.error('unifiedpush', 'body is not JSON');
    }
}

function onSet(i, body, at) {
    const s = sets[i];
    if (!s) return report.error('ssf', 'unknown stream');
    const text = body.toString('utf8');
    let claims;
    try {
        claims = JSON.parse(Buffer.from(text.split('.')[1], 'base64url').toString('utf8'));
    } catch {
        return report.error('ssf', 'not a JWS');
    }
    const ev = claims.events?.[setType];
    if (!ev) return report.count('ssf', 'other_sets');
    // jti = <event id>.<stream id> (docs/ssf.md); the event claims are the event's payload
    const id = String(claims.jti).split('.')[0];
    if (s.tally.got(id, ev.seq)) report.channel('ssf').lat.add(Number(at - BigInt(ev.t)) / 1000);
    if (s.tally.distinct % 10 === 1)
        verifier.verify(text, s.aud).then(
            () => report.count('ssf', 'sets_verified'),
            (e) => report.error('ssf', `SET verification: ${e.message}`),
        );
}

const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
        const at = nowNs();
        const m = /^\/(wp|up|set)\/(\d+)$/.exec(req.url);
        if (m && m[1] === 'up' && req.method === 'GET') {
            res.writeHead(200, { 'content-type': 'application/json' });
            return res.end('{"unifiedpush":{"version":1}}');
        }
        if (!m || req.method !== 'POST') {
            res.writeHead(404);
            return res.end();
        }
        const body = Buffer.concat(chunks);
        const i = Number(m[2]);
        if (m[1] === 'wp') onWebPush(i, req, body, at);
        else if (m[1] === 'up') onUnifiedPush(i, body, at);
        else onSet(i, body, at);
        res.writeHead(m[1] === 'set' ? 202 : 201, { 'content-length': 0 });
        res.end();
    });
});
server.keepAliveTimeout = 60000;

// ---- the bridge as UnifiedPush provider -------------------------------------------------------

const provider = { paths: [], posting: false, accepted: 0, seq: 0, lastId: 0, tally: null, sse: null };

async function openDistributor() {
    provider.tally = report.tally('up-provider', 'distributor', 'provider');
    const headers = { authorization: `Bearer ${userToken}`, accept: 'text/event-stream' };
    let buf = '';
    await new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: bridgePort, path: '/api/unifiedpush/messages', headers, agent: false });
        provider.sse = req;
        req.on('response', (res) => {
            if (res.statusCode !== 200) return reject(new Error(`distributor: ${res.statusCode}`));
            res.setEncoding('utf8');
            res.on('data', (d) => {
                const at = nowNs();
                buf += d;
                let k;
                while ((k = buf.indexOf('\n\n')) >= 0) {
                    const frame = buf.slice(0, k);
                    buf = buf.slice(k + 2);
                    const data = /^data: (.*)$/m.exec(frame);
                    if (!data) continue;
                    const msg = JSON.parse(data[1]);
                    provider.lastId = Math.max(provider.lastId, msg.id);
                    const [stamp, seq] = Buffer.from(msg.body, 'base64').toString('latin1').split(' ');
                    if (provider.tally.got(String(msg.id), Number(seq)))
                        report.channel('up-provider').lat.add(Number(at - BigInt(stamp)) / 1000);
                }
            });
            res.on('close', () => {
                if (!provider.closing) report.error('up-provider', 'distributor stream ended');
            });
            resolve();
        });
        req.on('error', reject);
    });
    setInterval(() => {
        if (provider.lastId > provider.acked) {
            provider.acked = provider.lastId;
            call('POST', '/api/unifiedpush/messages/ack', { body: { up_to: provider.lastId } }).then(
                (r) => r.status === 200 || r.status === 204 || report.error('up-provider', `ack: ${r.status}`),
                () => report.error('up-provider', 'ack failed'),
            );
        }
    }, 200).unref();
    provider.acked = 0;
}

async function post() {
    const seq = ++provider.seq;
    const body = `${nowNs()} ${seq} ${'x'.repeat(80)}`;
    const path = provider.paths[seq % provider.paths.length];
    try {
        const r = await call('POST', path, { body, headers: { 'content-type': 'application/octet-stream' } });
        if (r.status === 202) provider.accepted++;
        else report.error('up-provider', `POST: ${r.status}`);
    } catch (e) {
        report.error('up-provider', `POST: ${e.message}`);
    }
}

async function postAtRate(rate) {
    const start = performance.now();
    let sent = 0;
    const inflight = new Set();
    while (provider.posting) {
        const due = Math.floor(((performance.now() - start) / 1000) * rate);
        while (sent < due) {
            const p = post();
            inflight.add(p);
            p.finally(() => inflight.delete(p));
            sent++;
        }
        await sleep(5);
    }
    await Promise.all(inflight);
}

// ---- set-up ----------------------------------------------------------------------------------

async function setup() {
    await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
    const { key } = await must(200, 'GET', '/api/push/vapid');
    for (let i = 0; i < num('webpush', 0); i++) {
        const ua = userAgent();
        await must(201, 'POST', '/api/push/subscribe', { body: { subscription: { endpoint: `${origin}/wp/${i}`, keys: ua.keys }, vapid: key } });
        wp.push({ ua, tally: report.tally('webpush', `subscription-${i}`, 'wp') });
    }
    for (let i = 0; i < num('unifiedpush', 0); i++) {
        await must(201, 'POST', '/api/unifiedpush/register', { body: { endpoint: `${origin}/up/${i}` } });
        up.push(report.tally('unifiedpush', `registration-${i}`, 'up'));
    }
    verifier = await setVerifier(`http://127.0.0.1:${bridgePort}`, 'bench');
    for (let i = 0; i < num('ssf', 0); i++) {
        const s = await must(201, 'POST', '/ssf/bench/streams', {
            token: rxToken,
            body: { events_requested: [setType], delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: `${origin}/set/${i}` } },
        });
        sets.push({ aud: s.aud, tally: report.tally('ssf', `ssf-stream-${i}`, 'sec') });
    }
    for (let i = 0; i < num('endpoints', 0); i++) {
        const e = await must(201, 'POST', '/api/unifiedpush/endpoints');
        provider.paths.push(new URL(e.endpoint).pathname);
    }
    if (provider.paths.length) await openDistributor();
    ready({ role: 'sink', webpush: wp.length, unifiedpush: up.length, ssf: sets.length, endpoints: provider.paths.length });
}

let posting = null;
controls({
    go: () => {
        if (provider.paths.length && !provider.posting) {
            provider.posting = true;
            posting = postAtRate(num('up-rate', 10));
        }
    },
    halt: () => (provider.posting = false),
    finish: async () => {
        provider.posting = false;
        await posting;
        provider.closing = true;
        provider.sse?.destroy();
        report.print({ published: { provider: provider.accepted } });
    },
});
setup().catch(fail);
