# The root-fs kernel panic with 2 vCPUs and kernel messages shown.
INITRD=no
VCPUS=2
MEMORY_MB=512
APPEND="console=ttyS0 console=tty0 root=/dev/sda loglevel=7 panic=0"
