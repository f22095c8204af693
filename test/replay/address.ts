// A loopback address of its own for this test run (127.77.x.y, all of 127/8 is local on Linux):
// other tests on this machine pick ports on 127.0.0.1 too, and a port collision there would mix
// their traffic into ours (or send ours to their servers).
export const LOOPBACK_ADDR = `127.77.${((process.pid >> 8) % 250) + 1}.${(process.pid % 250) + 1}`;
