"""What every part shares: the wire contract's decoder, the station registry (`stations.toml`, ASEM
countries) and the errors a person can act on. Imports nothing of ours but `firmware.wire`."""
