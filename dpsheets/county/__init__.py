"""The county side: the archive (一企一档), the watched inbox, the roster and the roll-up."""
