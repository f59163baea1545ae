/* A library without debug info calling back into us: bt through libz's .eh_frame.
   host-only: it links libz, which the guests' static cross build has not got. */
#include <stdlib.h>
#include <zlib.h>

static voidpf my_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return calloc(items, size);
}

static void my_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    free(p);
}

int main(void)
{
    z_stream stream = {0};
    stream.zalloc = my_alloc;
    stream.zfree = my_free;
    int status = inflateInit(&stream);
    inflateEnd(&stream);
    return status;
}
