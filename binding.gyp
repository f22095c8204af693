{
  "targets": [
    {
      "target_name": "tcpcopy_native",
      "sources": [
        "native/src/addon.c",
        "native/src/util.c",
        "native/src/handle.c",
        "native/src/batch.c",
        "native/src/netns.c",
        "native/src/capture.c",
        "native/src/rxsock.c",
        "native/src/sock.c",
        "native/src/rawsend.c",
        "native/src/inject.c",
        "native/src/nfqueue.c",
        "native/src/privileges.c"
      ],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-std=gnu11", "-fvisibility=hidden"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "libraries": ["-lpcap", "-lnetfilter_queue", "-lmnl"]
    }
  ]
}
