/*
 * handle.c -- the handles plugins hold for requests (dtr_request * in the
 * ABI).
 *
 * Request objects are pooled: the memory of an answered request serves the
 * next one. A plugin that kept its pointer and used it after the answer
 * ended would then act on another client's request. So a plugin never gets
 * the pointer: it gets a handle, the index of a slot in a table and the
 * slot's generation packed into one word. Ending the answer bumps the
 * generation, and every host function first resolves the handle
 * (net_handle_resolve): a handle of an older generation resolves to nothing,
 * the misuse is logged, and the call has no effect.
 *
 * The table is the process's (plugins call the host without saying which
 * server), used on the loop thread only. Slots are reused through a free
 * list; the table grows with the requests in flight at once and never
 * shrinks.
 */
#include "net/net_int.h"

#include <stdint.h>
#include <stdlib.h>

typedef struct net_handle_slot {
    dtr_request *req; /* NULL while free */
    uint32_t gen;
    uint32_t next_free; /* index + 1 of the next free slot; 0: none */
} net_handle_slot;

static net_handle_slot *slots;
static uint32_t n_slots, cap_slots, free_head;
static ops_log *misuse_log;

void net_handle_set_log(ops_log *log)
{
    misuse_log = log;
}

/* A handle: generation in the high half, slot index + 1 in the low half (so
 * no handle is NULL). */
static dtr_request *net_handle_pack(uint32_t index, uint32_t gen)
{
    return (dtr_request *)(uintptr_t)(((uint64_t)gen << 32) | (uint64_t)(index + 1));
}

dtr_request *net_handle_of(dtr_request *req)
{
    if (req->handle) return req->handle;
    uint32_t index;
    if (free_head) {
        index = free_head - 1;
        free_head = slots[index].next_free;
    } else {
        if (n_slots == cap_slots) {
            uint32_t cap = cap_slots ? cap_slots * 2 : 256;
            net_handle_slot *grown = realloc(slots, cap * sizeof *grown);
            if (!grown) abort();
            slots = grown;
            cap_slots = cap;
        }
        index = n_slots++;
        slots[index].gen = 1;
    }
    slots[index].req = req;
    slots[index].next_free = 0;
    req->handle = net_handle_pack(index, slots[index].gen);
    return req->handle;
}

void net_handle_revoke(dtr_request *req)
{
    if (req->on_end) {
        void (*fn)(void *) = req->on_end;
        req->on_end = NULL;
        fn(req->end_udata);
    }
    if (!req->handle) return;
    uint64_t v = (uint64_t)(uintptr_t)req->handle;
    uint32_t index = (uint32_t)(v & 0xffffffffu) - 1;
    req->handle = NULL;
    if (index >= n_slots || slots[index].req != req) return;
    slots[index].req = NULL;
    slots[index].gen++;
    slots[index].next_free = free_head;
    free_head = index + 1;
}

void net_request_on_end(dtr_request *handle, void (*fn)(void *udata), void *udata)
{
    dtr_request *req = net_handle_resolve(handle, "on_end");
    if (!req) {
        if (fn) fn(udata); /* already spent: ends now */
        return;
    }
    req->on_end = fn;
    req->end_udata = udata;
}

void *net_request_end_data(dtr_request *handle)
{
    dtr_request *req = net_handle_resolve(handle, "end_data");
    return req && req->on_end ? req->end_udata : NULL;
}

dtr_request *net_handle_resolve(dtr_request *handle, const char *what)
{
    if (!handle) return NULL;
    uint64_t v = (uint64_t)(uintptr_t)handle;
    uint32_t index = (uint32_t)(v & 0xffffffffu) - 1, gen = (uint32_t)(v >> 32);
    if (index < n_slots && slots[index].gen == gen && slots[index].req) return slots[index].req;
    if (misuse_log)
        ops_log_write(misuse_log, OPS_LOG_ERROR, "net",
                      "a plugin called %s on a request whose answer had already ended; ignored",
                      what);
    return NULL;
}
