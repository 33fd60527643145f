/*
 * Socket.IO packets come from any client. Whatever the bytes, the decoder answers with a
 * packet or a reason; a packet it accepts encodes to text that decodes to the same packet.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "socketio/sio_packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sio_packet p, q;
    char err[96];
    char *wire;
    size_t len;

    if (sio_packet_decode((const char *)data, size, 16, &p, err, sizeof(err)) != 0) {
        if (err[0] == '\0')
            abort(); /* a refusal always says why */
        return 0;
    }
    wire = sio_packet_encode(&p, &len);
    if (wire == NULL)
        abort();
    if (sio_packet_decode(wire, len, 16, &q, err, sizeof(err)) != 0 || q.type != p.type ||
        q.id != p.id || q.attachments != p.attachments || strcmp(q.nsp, p.nsp) != 0 ||
        (p.data == NULL) != (q.data == NULL) || (p.data && !json_object_equal(p.data, q.data)))
        abort();
    sio_packet_clear(&q);
    sio_packet_clear(&p);
    free(wire);
    return 0;
}
