// A broker with the plugin, tenants with their signing keys, a service issuer, and the streams
// file that ties them together: what nearly every test file starts from.
import fs from 'node:fs/promises';
import path from 'node:path';
import { Broker, writePasswordFile } from './broker.mjs';
import { requireArtifacts } from './env.mjs';
import { AUDIENCE, SERVICE_ISSUER, issuerOf, streamsById } from './streams.mjs';
import { startPostgres } from './pg.mjs';
import { makeTempDir, removeTempDir, writeJson } from './tmp.mjs';
import { Issuer, keygen } from './tokens.mjs';

/**
 * Build and start a world. spec:
 *   label: names the temp dir.
 *   tenants: {tenantId: {streams: [stream(...)], keyType?, rolesClient?, audience?}}
 *   service: true to configure the service issuer (default true).
 *   limits: streams file "limits" object (optional).
 *   passwords: {user: password} for a Mosquitto password_file; acl: acl_file text.
 *   brokerConf: extra mosquitto.conf lines.
 *   start: false to only write the files (default true).
 *   postgresql: true to start a throwaway PostgreSQL too (world.pg, lib/pg.mjs), stopped with
 *     the world; a bridge uses it with new Bridge(world, {store: world.pg.url}).
 * Returns an object with dir, broker, streamsFile, doc (the streams document), issuers
 * ({tenantId|'service': Issuer}), rewrite(doc) and close().
 */
export async function createWorld(spec) {
    requireArtifacts();
    const dir = await makeTempDir(spec.label ?? 'world');
    const world = { dir, issuers: {}, broker: null };
    try {
        const keysDir = path.join(dir, 'keys');
        await fs.mkdir(keysDir);
        const doc = { tenants: {} };
        if (spec.service !== false) {
            const keys = await keygen(keysDir, 'service', { type: spec.serviceKeyType ?? 'ec' });
            world.issuers.service = new Issuer(keys, SERVICE_ISSUER, AUDIENCE);
            doc.service = { issuer: SERVICE_ISSUER, audience: AUDIENCE, jwks_file: 'keys/service.jwks.json' };
        }
        if (spec.limits) doc.limits = spec.limits;
        for (const [id, t] of Object.entries(spec.tenants)) {
            const keys = await keygen(keysDir, id, { type: t.keyType ?? 'ec' });
            const audience = t.audience ?? AUDIENCE;
            world.issuers[id] = new Issuer(keys, issuerOf(id), audience);
            doc.tenants[id] = {
                issuer: issuerOf(id),
                audience,
                ...(t.rolesClient ? { roles_client: t.rolesClient } : {}),
                jwks_file: `keys/${id}.jwks.json`,
                streams: streamsById(t.streams),
            };
        }
        world.doc = doc;
        world.streamsFile = await writeJson(path.join(dir, 'streams.json'), doc);
        let passwordFile;
        let aclFile;
        if (spec.passwords) passwordFile = await writePasswordFile(path.join(dir, 'passwd'), spec.passwords);
        if (spec.acl !== undefined) {
            aclFile = path.join(dir, 'acl');
            await fs.writeFile(aclFile, spec.acl);
        }
        world.broker = new Broker({
            dir,
            streamsFile: world.streamsFile,
            passwordFile,
            aclFile,
            extra: spec.brokerConf,
        });
        if (spec.start !== false) await world.broker.start();
        if (spec.postgresql) world.pg = await startPostgres(dir);
    } catch (e) {
        world.broker?.kill();
        await world.pg?.stop().catch(() => {});
        await removeTempDir(dir);
        throw e;
    }

    /** Token of a tenant (or 'service') issuer; opts as for mint(). */
    world.token = (who, opts) => world.issuers[who].token(opts);
    world.rewrite = (doc) => writeJson(world.streamsFile, doc);
    world.writeRaw = (text) => fs.writeFile(world.streamsFile, text);
    world.port = () => world.broker.port;
    /** Stop the broker (throws on sanitizer reports) and remove the directory. */
    world.close = async () => {
        try {
            await world.broker?.stop();
        } catch (e) {
            world.keep = true;
            throw new Error(`${e.message}\n(files kept in ${dir})`);
        } finally {
            await world.pg?.stop().catch(() => {});
        }
        await removeTempDir(dir);
    };
    /** For after() hooks: never throws, leaves nothing running; keeps the files after a failure. */
    world.dispose = async () => {
        world.broker?.kill();
        await world.pg?.stop().catch(() => {});
        if (!world.keep) await removeTempDir(dir).catch(() => {});
    };
    return world;
}
