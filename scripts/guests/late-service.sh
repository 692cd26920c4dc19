# Reaches the prompt, then a CPU-busy service starts a few seconds later.
after_prompt() {
  sleep 5
  say "crv-guest: service started"
  while :; do i=0; while [ $i -lt 100000 ]; do i=$((i + 1)); done; done
}
