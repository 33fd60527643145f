// An SSF receiver for the transmitter's tests: an RFC 8935 push endpoint on 127.0.0.1 whose
// answers a test scripts per path, and a verifier that checks every SET with npm jose against
// the transmitter's published metadata and JWKS.
import assert from 'node:assert/strict';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import * as jose from 'jose';

/**
 * Start a push endpoint. Every request is kept ({path, method, headers, body, at, status: the
 * answer's}); the answer for a path is the next scripted one ({status, body?, headers?}), else
 * 202.
 */
export async function setReceiver() {
    const received = [];
    const script = new Map();
    const server = http.createServer((req, res) => {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (d) => (body += d));
        req.on('end', () => {
            const next = script.get(req.url)?.shift() ?? { status: 202 };
            const at = Date.now();
            received.push({ path: req.url, method: req.method, headers: req.headers, body, at, status: next.status });
            const text = next.body === undefined ? '' : JSON.stringify(next.body);
            res.writeHead(next.status, {
                ...(text ? { 'content-type': 'application/json' } : {}),
                ...(next.headers ?? {}),
            });
            res.end(text);
        });
    });
    server.keepAliveTimeout = 1000;
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = server.address().port;
    return {
        port,
        received,
        url: (path) => `http://127.0.0.1:${port}${path}`,
        to: (path) => received.filter((r) => r.path === path),
        /** Answer the next requests to path with these, in order. */
        answer: (path, ...answers) => script.set(path, [...(script.get(path) ?? []), ...answers]),
        clear: (path) => script.delete(path),
        async until(fn, what, timeoutMs = 10000) {
            const deadline = Date.now() + timeoutMs;
            while (!(await fn())) {
                if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
                await sleep(20);
            }
        },
        close: () =>
            new Promise((resolve) => {
                server.closeAllConnections?.();
                server.close(() => resolve());
            }),
    };
}

/**
 * A verifier for tenant's SETs: fetches the transmitter's configuration (SSF 1.0 section 7.2)
 * and its JWKS, then verify(set, aud) checks the signature, typ, iss, aud and the SSF claim
 * rules, and resolves the claims.
 */
export async function setVerifier(bridgeUrl, tenant) {
    const res = await fetch(`${bridgeUrl}/.well-known/ssf-configuration/ssf/${tenant}`);
    assert.equal(res.status, 200);
    const meta = await res.json();
    const jwks = jose.createRemoteJWKSet(new URL(meta.jwks_uri));
    return {
        meta,
        async verify(set, aud) {
            const { payload, protectedHeader } = await jose.jwtVerify(set, jwks, {
                issuer: meta.issuer,
                audience: aud,
                typ: 'secevent+jwt',
            });
            assert.equal(protectedHeader.typ, 'secevent+jwt');
            assert.ok(protectedHeader.kid, 'kid');
            assert.ok(['ES256', 'RS256'].includes(protectedHeader.alg));
            assert.equal(payload.iss, meta.issuer);
            assert.equal(typeof payload.iat, 'number');
            assert.equal(typeof payload.jti, 'string');
            assert.equal(payload.sub, undefined, 'no sub (SSF 4.1)');
            assert.equal(payload.exp, undefined, 'no exp (SSF 4.1.7)');
            assert.equal(typeof payload.sub_id?.format, 'string', 'sub_id with a format');
            assert.equal(Object.keys(payload.events).length, 1, 'exactly one event');
            return payload;
        },
    };
}
