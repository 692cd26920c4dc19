# No initramfs and no disk: the kernel fails with a real
# "Kernel panic - not syncing: VFS: Unable to mount root fs".
INITRD=no
APPEND="console=ttyS0 console=tty0 root=/dev/sda panic=0"
