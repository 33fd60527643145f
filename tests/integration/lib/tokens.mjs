// Signing keys and tokens. Good tokens come from mqpushctl (the project's own minting tool);
// deliberately broken ones are crafted with jose, independently of the code under test.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as jose from 'jose';
import { MQPUSHCTL } from './env.mjs';
import { runOk } from './proc.mjs';

export async function ctl(args, opts) {
    return (await runOk(MQPUSHCTL, args, opts)).trim();
}

/**
 * Generate a key pair with `mqpushctl keygen` in dir: <name>.pem (private) and <name>.jwks.json.
 * type: ec | rsa | ed25519. Returns {type, key, jwksFile, kid, jwks, publicPem}.
 */
export async function keygen(dir, name, { type = 'ec', kid } = {}) {
    const key = path.join(dir, `${name}.pem`);
    const jwksFile = path.join(dir, `${name}.jwks.json`);
    const args = ['keygen', '--type', type, '--key', key, '--jwks', jwksFile];
    if (kid) args.push('--kid', kid);
    const printedKid = await ctl(args);
    const jwks = JSON.parse(await fs.readFile(jwksFile, 'utf8'));
    const publicPem = crypto.createPublicKey(await fs.readFile(key)).export({ type: 'spki', format: 'pem' });
    return { type, key, jwksFile, kid: printedKid, jwks, publicPem };
}

/**
 * Mint a token with `mqpushctl token`. opts: iss, aud (string or array), sub, sid, jti,
 * roles, realmRoles (arrays), clientRoles ({client: [roles]}), ttl, noExp, nbf, kid, typ,
 * claims ({name: value}).
 */
export async function mint(key, opts) {
    const args = ['token', '--key', key, '--iss', opts.iss];
    for (const aud of [].concat(opts.aud)) args.push('--aud', aud);
    if (opts.sub !== undefined) args.push('--sub', opts.sub);
    if (opts.sid !== undefined) args.push('--sid', opts.sid);
    if (opts.jti !== undefined) args.push('--jti', opts.jti);
    if (opts.roles?.length) args.push('--roles', opts.roles.join(','));
    if (opts.realmRoles?.length) args.push('--realm-roles', opts.realmRoles.join(','));
    for (const [client, roles] of Object.entries(opts.clientRoles ?? {}))
        args.push('--client-roles', `${client}:${roles.join(',')}`);
    if (opts.ttl !== undefined) args.push(`--ttl=${opts.ttl}`);
    if (opts.noExp) args.push('--no-exp');
    if (opts.nbf !== undefined) args.push(`--nbf=${opts.nbf}`);
    if (opts.kid !== undefined) args.push('--kid', opts.kid);
    if (opts.typ !== undefined) args.push('--typ', opts.typ);
    for (const [name, value] of Object.entries(opts.claims ?? {}))
        args.push('--claim', `${name}=${JSON.stringify(value)}`);
    return ctl(args);
}

/** An issuer as a test sees it: its key pair plus iss/aud, minting tokens on demand. */
export class Issuer {
    constructor(keys, iss, aud) {
        this.keys = keys;
        this.iss = iss;
        this.aud = aud;
    }

    token(opts = {}) {
        return mint(this.keys.key, { iss: this.iss, aud: this.aud, kid: this.keys.kid, ...opts });
    }

    /** Claims a good token of this issuer would carry, for crafting bad ones with jose. */
    claims(extra = {}) {
        const now = Math.floor(Date.now() / 1000);
        return { iss: this.iss, aud: this.aud, iat: now, exp: now + 600, sub: 'crafted', ...extra };
    }
}

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** RFC 7519 6.1 unsecured JWT: alg "none" and an empty signature. */
export function craftAlgNone(claims, kid) {
    return new jose.UnsecuredJWT(claims).encode().replace(/^[^.]+/, b64url({ alg: 'none', typ: 'JWT', kid }));
}

/** alg "none" with a non-empty third part, so that it looks like any other JWS. */
export function craftAlgNoneWithSignature(claims, kid) {
    return `${b64url({ alg: 'none', typ: 'JWT', kid })}.${b64url(claims)}.${b64url('not-a-signature')}`;
}

/**
 * The classic key-confusion attack: HS256 with the issuer's public key (PEM text) as the HMAC
 * secret, which a verifier that lets the token choose the algorithm would accept.
 */
export async function craftHs256WithPublicKey(claims, publicPem, kid) {
    return new jose.SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid })
        .sign(new TextEncoder().encode(publicPem));
}

/** Flip bits in the middle of the signature part (the last character may carry only padding bits). */
export function tamperSignature(token) {
    const [h, p, s] = token.split('.');
    const raw = Buffer.from(s, 'base64url');
    raw[Math.floor(raw.length / 2)] ^= 0x5a;
    return `${h}.${p}.${raw.toString('base64url')}`;
}

/** Change one claim but keep the original signature. */
export function tamperPayload(token, change) {
    const [h, p, s] = token.split('.');
    const claims = { ...JSON.parse(Buffer.from(p, 'base64url').toString('utf8')), ...change };
    return `${h}.${b64url(claims)}.${s}`;
}

/** Decode the claims of a compact JWS without verifying it. */
export function peekClaims(token) {
    return jose.decodeJwt(token);
}
