# All kernel messages on the consoles (no "quiet") and more memory: a slower,
# chattier boot of the same OS.
MEMORY_MB=384
APPEND="console=ttyS0 console=tty0 loglevel=7 panic=0"
