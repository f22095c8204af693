// The base of the reusable header views: a buffer and the offset of the header in it, re-pointed
// per packet with reset() so decoding allocates no view objects.
export abstract class HeaderView {
  buf: Buffer = Buffer.alloc(0);
  offset = 0;

  reset(buf: Buffer, offset: number): this {
    this.buf = buf;
    this.offset = offset;
    return this;
  }
}
