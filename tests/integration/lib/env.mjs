// Where the artifacts under test live. ctest passes MQP_BUILD_DIR, MQP_SOURCE_DIR, MQP_SANITIZE
// and MQP_C_COMPILER; the defaults let a developer run `node --test` from this folder against
// ../../build.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const SOURCE_DIR = path.resolve(process.env.MQP_SOURCE_DIR || path.join(here, '..', '..', '..'));
export const BUILD_DIR = path.resolve(process.env.MQP_BUILD_DIR || path.join(SOURCE_DIR, 'build'));
// CMake spells booleans several ways (ON, TRUE, 1, YES).
export const SANITIZE = /^(on|true|1|yes|y)$/i.test(process.env.MQP_SANITIZE || '');
export const C_COMPILER = process.env.MQP_C_COMPILER || 'cc';

export const PLUGIN = path.join(BUILD_DIR, 'plugin', 'mqpush_plugin.so');
export const MQPUSHCTL = path.join(BUILD_DIR, 'tools', 'mqpushctl');
export const BRIDGE = path.join(BUILD_DIR, 'bridge', 'mqpush-bridge');
export const MOSQUITTO = process.env.MQP_MOSQUITTO || '/usr/sbin/mosquitto';
export const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub';
export const MOSQUITTO_SUB = '/usr/bin/mosquitto_sub';
export const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';
export const SCHEMAS_DIR = path.join(SOURCE_DIR, 'schemas');
export const EXAMPLES_DIR = path.join(SOURCE_DIR, 'examples');
export const LSAN_SUPPRESSIONS = path.join(SOURCE_DIR, 'tests', 'sanitizers', 'lsan.supp');

/** Throw a clear error when a file the tests need has not been built or installed. */
export function requireFile(file, what) {
    try {
        fs.accessSync(file, fs.constants.R_OK);
    } catch {
        throw new Error(`${what} not found at ${file} (build the project first, or set MQP_BUILD_DIR)`);
    }
    return file;
}

/** The plugin, mqpushctl and the Mosquitto binaries: every broker test needs all of them. */
export function requireArtifacts() {
    requireFile(PLUGIN, 'mqpush plugin');
    requireFile(MQPUSHCTL, 'mqpushctl');
    requireFile(MOSQUITTO, 'mosquitto');
}
