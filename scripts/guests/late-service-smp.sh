# late-service with 2 vCPUs and 512 MiB: the busy service runs on one of them.
VCPUS=2
MEMORY_MB=512
after_prompt() {
  sleep 4
  say "crv-guest: service started"
  while :; do i=0; while [ $i -lt 100000 ]; do i=$((i + 1)); done; done
}
LABEL_RULES=("Kernel panic=boot_failure" "crv-guest: service started=app_loaded" "login: *\$=boot_success")
