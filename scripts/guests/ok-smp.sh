# Two vCPUs and more memory; otherwise the ok guest.
VCPUS=2
MEMORY_MB=512
