# Boots to a login prompt on the VGA screen and the serial console.
