// Builders for streams files (schemas/streams.schema.json), so tests state only what matters.

/** One entry of a stream's "events": {namespace, name, map?, criteria?}. */
export function ev(namespace, name, { map, criteria } = {}) {
    const e = { namespace, name };
    if (map !== undefined) e.map = map;
    if (criteria !== undefined) e.criteria = criteria;
    return e;
}

/** A stream object; events is a list of ev(...). */
export function stream(id, { publicSubscribe = false, subscriberRoles = [], events = [], name, description } = {}) {
    return {
        id,
        name: name ?? `Stream ${id}`,
        description: description ?? `Test stream ${id}.`,
        publicSubscribe,
        subscriberRoles,
        events,
    };
}

/** {id: stream} from a list of stream(...). */
export function streamsById(list) {
    return Object.fromEntries(list.map((s) => [s.id, s]));
}

/** Issuer names the tests use: one realm per tenant, one for services. */
export const issuerOf = (tenant) => `https://idp.mqpush.test/realms/${tenant}`;
export const SERVICE_ISSUER = 'https://idp.mqpush.test/realms/service';
export const AUDIENCE = 'mqpush';
