{
  "targets": [
    {
      "target_name": "ironlb_native",
      "sources": [
        "src/native/addon.cc",
        "src/native/packet_socket.cc",
        "src/native/icmp6_socket.cc",
        "src/native/tcp_md5.cc",
        "src/native/udp_min_ttl.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra"]
    }
  ]
}
