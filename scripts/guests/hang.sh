# init hangs silently and never reaches a prompt.
init_body() {
  while :; do sleep 3600; done
}
