// The Node side of bench/unifiedpush/run.sh, built-in modules only, loopback only.
//   node load.mjs register --bridge P --token T --provider-port Q --n N --form serv|webpush
//        --stream ID
//     N registrations of one user pointing at provider.mjs (SERV 1.0.1 form: the bridge GETs
//     each endpoint first; Web Push form: with p256dh/auth keys, so every push is encrypted).
//   node load.mjs provider --bridge P --token T --endpoints N --rate R|0 --duration S
//        [--warmup S] [--conns C] [--size B]
//     phase B: N endpoints on the bridge as push provider; C keep-alive connections POST to
//     /up/<id> (round robin over the endpoints) at R messages/s (0: flat out); one distributor
//     reads GET /api/unifiedpush/messages (SSE) and acknowledges every 200 ms. Prints one JSON
//     line: accepted POSTs/s, refusals, and the time from POST to the distributor (p50/p99).
import crypto from 'node:crypto';
import http from 'node:http';

const [mode] = process.argv.slice(2);
const arg = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : dflt;
};
const bridgePort = Number(arg('bridge'));
const token = arg('token');
const auth = { authorization: `Bearer ${token}` };

function req(agent, method, path, body, headers = {}) {
    return new Promise((resolve, reject) => {
        const r = http.request({ host: '127.0.0.1', port: bridgePort, method, path, agent, headers: { ...headers, 'content-length': body ? body.length : 0 } }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
        });
        r.on('error', reject);
        r.end(body);
    });
}

async function pool(n, conc, fn) {
    let next = 0;
    await Promise.all(Array.from({ length: conc }, async () => {
        while (next < n) await fn(next++);
    }));
}

async function register() {
    const n = Number(arg('n'));
    const form = arg('form', 'serv');
    const q = Number(arg('provider-port'));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    await pool(n, 16, async (i) => {
        const reg = { endpoint: `http://127.0.0.1:${q}/push/${form}-${i}`, stream: arg('stream', 'serv') };
        if (form === 'webpush') {
            const ecdh = crypto.createECDH('prime256v1');
            ecdh.generateKeys();
            reg.keys = { p256dh: ecdh.getPublicKey('base64url'), auth: crypto.randomBytes(16).toString('base64url') };
        }
        const r = await req(agent, 'POST', '/api/unifiedpush/register', Buffer.from(JSON.stringify(reg)), { ...auth, 'content-type': 'application/json' });
        if (r.status !== 201) throw new Error(`registration ${i}: ${r.status} ${r.body}`);
    });
    agent.destroy();
    console.log(JSON.stringify({ registered: n, form }));
}

function pct(sorted, q) {
    return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null;
}

async function provider() {
    const n = Number(arg('endpoints', 100));
    const rate = Number(arg('rate', 0));
    const duration = Number(arg('duration', 5));
    const warmup = Number(arg('warmup', 1));
    const conns = Number(arg('conns', 32));
    const size = Number(arg('size', 100));
    const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
    const paths = [];
    await pool(n, 16, async () => {
        const r = await req(agent, 'POST', '/api/unifiedpush/endpoints', null, auth);
        if (r.status !== 201) throw new Error(`endpoint: ${r.status} ${r.body}`);
        paths.push(new URL(JSON.parse(r.body).endpoint).pathname);
    });
    // the distributor: SSE, exact bytes in base64; the body starts with the send time
    let measuring = false;
    let received = 0;
    let lastId = 0;
    const lat = [];
    let buf = '';
    const sse = http.get({ host: '127.0.0.1', port: bridgePort, path: '/api/unifiedpush/messages', headers: { ...auth, accept: 'text/event-stream' } });
    await new Promise((resolve, reject) => {
        sse.on('response', (res) => {
            if (res.statusCode !== 200) return reject(new Error(`SSE ${res.statusCode}`));
            res.setEncoding('utf8');
            res.on('data', (d) => {
                const now = process.hrtime.bigint();
                buf += d;
                let at;
                while ((at = buf.indexOf('\n\n')) >= 0) {
                    const frame = buf.slice(0, at);
                    buf = buf.slice(at + 2);
                    const data = /^data: (.*)$/m.exec(frame);
                    if (!data) continue;
                    const m = JSON.parse(data[1]);
                    lastId = m.id;
                    const sent = BigInt(Buffer.from(m.body, 'base64').toString('latin1').split(' ')[0]);
                    if (sent > 0n && measuring) {
                        received++;
                        lat.push(Number(now - sent) / 1e6);
                    }
                }
            });
            resolve();
        });
        sse.on('error', reject);
    });
    const acker = setInterval(() => {
        if (lastId > 0) req(agent, 'POST', '/api/unifiedpush/messages/ack', Buffer.from(JSON.stringify({ up_to: lastId })), { ...auth, 'content-type': 'application/json' }).catch(() => {});
    }, 200);
    const pad = 'x'.repeat(size);
    const counts = { accepted: 0, limited: 0, other: 0, errors: 0 };
    let seq = 0;
    const one = async () => {
        const stamp = process.hrtime.bigint();
        const body = Buffer.from(`${stamp} ${seq} ${pad}`.slice(0, Math.max(size, 40)));
        const path = paths[seq++ % paths.length];
        try {
            const r = await req(agent, 'POST', path, body, { 'content-type': 'application/octet-stream' });
            if (!measuring) return;
            if (r.status === 202) counts.accepted++;
            else if (r.status === 429) counts.limited++;
            else counts.other++;
        } catch {
            if (measuring) counts.errors++;
        }
    };
    const endAt = Date.now() + (warmup + duration) * 1000;
    setTimeout(() => (measuring = true), warmup * 1000);
    let measuredFrom = 0;
    setTimeout(() => (measuredFrom = performance.now()), warmup * 1000);
    if (rate > 0) {
        const start = performance.now();
        let sent = 0;
        const inflight = new Set();
        while (Date.now() < endAt) {
            const due = Math.floor(((performance.now() - start) / 1000) * rate);
            while (sent < due) {
                const p = one();
                inflight.add(p);
                p.finally(() => inflight.delete(p));
                sent++;
            }
            await new Promise((r) => setTimeout(r, 1));
        }
        await Promise.all(inflight);
    } else {
        await Promise.all(Array.from({ length: conns }, async () => {
            while (Date.now() < endAt) await one();
        }));
    }
    const secs = (performance.now() - measuredFrom) / 1000;
    measuring = false;
    await new Promise((r) => setTimeout(r, 500)); // the last messages reach the distributor
    clearInterval(acker);
    sse.destroy();
    agent.destroy();
    const sorted = Float64Array.from(lat).sort();
    console.log(JSON.stringify({
        endpoints: n, rate, conns, size, ...counts, accepted_per_s: counts.accepted / secs, received,
        latency_ms: { n: sorted.length, p50: pct(sorted, 0.5), p99: pct(sorted, 0.99), max: sorted.length ? sorted[sorted.length - 1] : null },
    }));
}

(mode === 'register' ? register() : mode === 'provider' ? provider() : Promise.reject(new Error('mode: register | provider'))).catch((e) => {
    console.log(JSON.stringify({ error: String(e.message ?? e) }));
    process.exit(1);
});
