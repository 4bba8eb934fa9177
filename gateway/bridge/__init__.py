"""The serial bridge: a USB-connected station's readings to the broker (`classnet bridge`)."""
