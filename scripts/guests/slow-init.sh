# Pauses quietly mid-boot (a device wait) before reaching the prompt.
init_body() {
  say "crv-guest: waiting for devices"
  sleep 8
}
