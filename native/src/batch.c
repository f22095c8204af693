/* The staging area of a batch of packets delivered to JS in one call (capture.c, nfqueue.c). */
#include "common.h"

#include <stdlib.h>
#include <string.h>

uint32_t *tc_batch_add(tc_batch *b, const void *bytes, size_t len) {
  if (b->count == b->meta_cap) {
    size_t ncap = b->meta_cap ? b->meta_cap * 2 : 1024;
    uint32_t *m = realloc(b->meta, ncap * b->words * sizeof(uint32_t));
    if (!m) return NULL;
    b->meta = m;
    b->meta_cap = ncap;
  }
  if (b->data_len + len > b->data_cap) {
    size_t ncap = b->data_cap ? b->data_cap : (256u << 10);
    while (ncap < b->data_len + len) ncap *= 2;
    uint8_t *d = realloc(b->data, ncap);
    if (!d) return NULL;
    b->data = d;
    b->data_cap = ncap;
  }
  memcpy(b->data + b->data_len, bytes, len);
  uint32_t *m = b->meta + b->count * b->words;
  m[0] = (uint32_t)b->data_len;
  b->data_len += len;
  b->count++;
  return m;
}

bool tc_batch_take(napi_env env, tc_batch *b, napi_value *buffer) {
  size_t meta_bytes = b->count * b->words * sizeof(uint32_t);
  size_t total = meta_bytes + b->data_len;
  void *p = NULL;
  b->count = 0;
  b->data_len = 0;
  if (napi_create_buffer(env, total, &p, buffer) != napi_ok) return false;
  memcpy(p, b->meta, meta_bytes);
  memcpy((uint8_t *)p + meta_bytes, b->data, total - meta_bytes);
  return true;
}

void tc_batch_free(tc_batch *b) {
  free(b->meta);
  b->meta = NULL;
  b->meta_cap = b->count = 0;
  free(b->data);
  b->data = NULL;
  b->data_cap = b->data_len = 0;
}
