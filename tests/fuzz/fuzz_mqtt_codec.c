/*
 * MQTT packets come from the broker, which the bridge trusts no further than any peer: a
 * stream of bytes is split into packets and each decoded as the link would. Nothing may be
 * read past the input; a PUBLISH that decodes re-encodes to a packet that decodes to the same
 * topic, id and payload.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/mqtt_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_publish(const struct mqc_publish *m)
{
    struct mqc_buf b = {0};
    struct mqc_packet p;
    struct mqc_publish again;
    char topic[65536];
    size_t total;

    if (m->qos > 1)
        return;
    memcpy(topic, m->topic, m->topic_len);
    topic[m->topic_len] = '\0';
    if (mqc_put_publish(&b, topic, m->payload, m->payload_len, m->qos, m->id, m->dup) != 0)
        abort();
    if (mqc_frame(b.p, b.len, MQC_REMAINING_MAX + 5, &p, &total) != 1 || total != b.len ||
        mqc_decode_publish(&p, &again) != 0 || again.topic_len != m->topic_len ||
        memcmp(again.topic, m->topic, m->topic_len) != 0 || again.id != m->id ||
        again.payload_len != m->payload_len ||
        (m->payload_len && memcmp(again.payload, m->payload, m->payload_len) != 0))
        abort();
    free(b.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;

    while (off < size) {
        struct mqc_packet p;
        struct mqc_publish m;
        struct mqc_ack a;
        struct mqc_props pr;
        size_t total;
        bool present;
        uint8_t reason;
        int rc = mqc_frame(data + off, size - off, 1u << 20, &p, &total);

        if (rc <= 0)
            break;
        if (total < 2 || total > size - off || p.body + p.body_len != data + off + total)
            abort();
        switch (p.type) {
        case MQC_CONNACK:
            mqc_decode_connack(&p, &present, &reason, &pr);
            break;
        case MQC_PUBLISH:
            if (mqc_decode_publish(&p, &m) == 0) {
                if (!mqc_utf8_valid(m.topic, m.topic_len))
                    abort();
                check_publish(&m);
            }
            break;
        case MQC_PUBACK:
        case MQC_SUBACK:
        case MQC_UNSUBACK:
            if (mqc_decode_ack(&p, &a) == 0 && p.type != MQC_PUBACK && a.n_codes == 0)
                abort();
            break;
        case MQC_DISCONNECT:
            mqc_decode_disconnect(&p, &reason, &pr);
            break;
        default:
            break;
        }
        off += total;
    }
    return 0;
}
