# Reaches the prompt, then a CPU-busy service starts a few seconds later: a
# chained state (OS loaded, then application loaded).
after_prompt() {
  sleep 5
  say "crv-guest: service started"
  while :; do i=0; while [ $i -lt 100000 ]; do i=$((i + 1)); done; done
}
LABEL_RULES=("Kernel panic=boot_failure" "crv-guest: service started=app_loaded" "login: *\$=boot_success")
