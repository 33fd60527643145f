// A push service on loopback for Web Push and UnifiedPush tests: it records every request
// (headers, raw body, the status it was answered with) and answers from a script (a queue of
// responses per path, else 201 to a POST and the UnifiedPush discovery document to a GET);
// userAgent() decrypts bodies with npm http_ece, verifyVapid() checks the VAPID JWT with npm
// jose.
import crypto from 'node:crypto';
import http from 'node:http';
import ece from 'http_ece';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';

const b64u = (b) => Buffer.from(b).toString('base64url');

/** A browser's side of a subscription: its key pair and secret, and how to decrypt. */
export function userAgent() {
    const ecdh = crypto.createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = crypto.randomBytes(16);
    return {
        ecdh,
        authBuf: auth,
        keys: { p256dh: b64u(ecdh.getPublicKey()), auth: b64u(auth) },
        decrypt(body) {
            return ece.decrypt(body, { version: 'aes128gcm', privateKey: ecdh, authSecret: auth });
        },
    };
}

/** Verify "Authorization: vapid t=<jwt>, k=<key>" (RFC 8292 3) for audience; returns claims. */
export async function verifyVapid(header, audience) {
    const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
    if (!m) throw new Error(`not a VAPID authorization: ${header}`);
    const [, jwt, k] = m;
    const point = Buffer.from(k, 'base64url');
    if (point.length !== 65 || point[0] !== 4) throw new Error('k is not an uncompressed P-256 point');
    const jwk = { kty: 'EC', crv: 'P-256', x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33)) };
    const hdr = decodeProtectedHeader(jwt);
    if (hdr.alg !== 'ES256') throw new Error(`alg ${hdr.alg}`);
    const { payload } = await jwtVerify(jwt, await importJWK(jwk, 'ES256'), { audience, algorithms: ['ES256'] });
    return { claims: payload, key: k };
}

export class PushService {
    constructor() {
        this.requests = [];
        this.script = new Map(); // path -> [{status, headers, body}]
        this.server = null;
        this.port = 0;
        this.waiters = [];
    }

    async start() {
        this.server = http.createServer((req, res) => {
            const chunks = [];
            req.on('data', (c) => chunks.push(c));
            req.on('end', () => {
                const r = { method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(chunks), at: Date.now() };
                this.requests.push(r);
                const queue = this.script.get(req.url);
                const fallback =
                    req.method === 'GET'
                        ? { status: 200, headers: { 'content-type': 'application/json' }, body: '{"unifiedpush":{"version":1}}' }
                        : { status: 201 };
                const answer = (queue && queue.length ? queue.shift() : null) ?? fallback;
                r.status = answer.status;
                res.writeHead(answer.status, answer.headers ?? {});
                res.end(answer.body ?? '');
                for (const w of this.waiters.splice(0)) w();
            });
        });
        await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
        this.port = this.server.address().port;
        return this;
    }

    get origin() {
        return `http://127.0.0.1:${this.port}`;
    }

    endpoint(id) {
        return `${this.origin}/push/${id}`;
    }

    /** Answer the next requests to path with these responses, in order. */
    answer(path, ...responses) {
        this.script.set(path, [...(this.script.get(path) ?? []), ...responses]);
    }

    to(path) {
        return this.requests.filter((r) => r.path === path);
    }

    async until(pred, what, timeoutMs = 15000) {
        const deadline = Date.now() + timeoutMs;
        while (!pred()) {
            if (Date.now() > deadline) throw new Error(`push service: timed out waiting for ${what}`);
            await new Promise((resolve) => {
                const t = setTimeout(resolve, 50);
                this.waiters.push(() => {
                    clearTimeout(t);
                    resolve();
                });
            });
        }
    }

    async close() {
        if (this.server) await new Promise((resolve) => this.server.close(resolve));
        this.server = null;
    }
}
