# 1 GiB, 3 vCPUs, different kernel arguments.
VCPUS=3
MEMORY_MB=1024
APPEND="console=ttyS0 console=tty0 quiet mitigations=off nokaslr panic=0"
