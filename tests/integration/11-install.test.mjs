// The installed layout: `cmake --install` of the build under test into a temporary prefix puts
// the programs, the plugin, the schemas, the examples and docs, and the bridge's systemd unit
// where README.md says, and the installed programs run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BUILD_DIR } from './lib/env.mjs';
import { makeTempDir, removeTempDir } from './lib/tmp.mjs';

let prefix;

before(async () => {
    prefix = await makeTempDir('install');
    execFileSync('cmake', ['--install', BUILD_DIR, '--prefix', prefix], { stdio: 'pipe' });
});

after(async () => {
    await removeTempDir(prefix);
});

function libdir() {
    for (const d of ['lib', 'lib64', ...fs.readdirSync(path.join(prefix, 'lib')).map((x) => path.join('lib', x))])
        if (fs.existsSync(path.join(prefix, d, 'mqpush', 'mqpush_plugin.so'))) return d;
    return null;
}

test('programs, plugin, schemas, examples, docs and the systemd unit are laid out', () => {
    for (const f of ['bin/mqpush-bridge', 'bin/mqpushctl', 'bin/mqpush-ssf-receiver']) {
        const st = fs.statSync(path.join(prefix, f));
        assert.ok(st.mode & 0o111, `${f} is executable`);
    }
    assert.ok(libdir(), 'the plugin is under <libdir>/mqpush');
    for (const f of ['bridge.schema.json', 'streams.schema.json', 'stream-event.schema.json'])
        assert.ok(fs.existsSync(path.join(prefix, 'share/mqpush/schemas', f)), f);
    for (const f of ['examples/bridge.json', 'examples/streams.json', 'examples/mosquitto.conf.example', 'README.md', 'docs/webpush.md', 'docs/ssf.md', 'docs/unifiedpush.md'])
        assert.ok(fs.existsSync(path.join(prefix, 'share/doc/mqpush', f)), f);
    const unit = fs.readFileSync(path.join(prefix, 'lib/systemd/system/mqpush-bridge.service'), 'utf8');
    // paths are the configured prefix's (a package builds with /usr)
    assert.match(unit, /^ExecStart=\/\S*\/bin\/mqpush-bridge -c \/etc\/mqpush\/bridge.json$/m);
    assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    assert.match(unit, /^User=mqpush$/m);
    assert.match(unit, /^LimitNOFILE=\d+$/m);
});

test('the installed programs run', () => {
    const v = execFileSync(path.join(prefix, 'bin/mqpush-bridge'), ['--version'], { encoding: 'utf8' });
    assert.match(v, /\d+\.\d+\.\d+/);
    const key = path.join(prefix, 'k.pem');
    const jwks = path.join(prefix, 'k.jwks.json');
    execFileSync(path.join(prefix, 'bin/mqpushctl'), ['keygen', '--type', 'ec', '--key', key, '--jwks', jwks], { stdio: 'pipe' });
    assert.equal(JSON.parse(fs.readFileSync(jwks, 'utf8')).keys[0].crv, 'P-256');
});
